//! [`FsStore`]: blobs as files under a root directory.
//!
//! A put writes to a uniquely named file under `root/.tmp/`, fsyncs it, links it into place
//! and fsyncs the directory, so a crash never leaves a partial object visible. The link step
//! is `link(2)` rather than `rename(2)` because `link` fails when the target exists: refusing
//! to overwrite is then atomic, even with several writers racing for one key.

use std::io;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use futures::StreamExt;
use tokio::io::AsyncWriteExt;
use tokio_util::io::ReaderStream;

use super::{BlobKey, BlobStore, ByteStream, StoreError};

/// Name of the directory, under the root, that holds in-progress writes.
const TEMP_DIR: &str = ".tmp";
/// A temporary file untouched for this long belongs to a crashed or abandoned write.
const STALE_TEMP_AGE: Duration = Duration::from_secs(60 * 60);
/// Size of the chunks `get` yields.
const READ_CHUNK: usize = 64 * 1024;

/// A [`BlobStore`] on the local filesystem. Keys map to relative paths under the root.
///
/// Empty directories left by `delete` are kept: removing them would race with a concurrent
/// `put` into the same directory. A key that is also a directory prefix of another key
/// (`a` and `a/b`) cannot coexist on a filesystem; the second put fails with an I/O error.
#[derive(Debug, Clone)]
pub struct FsStore {
    root: PathBuf,
}

impl FsStore {
    /// Opens (creating if needed, mode 0700) the store rooted at `root`, and removes
    /// temporary files left by writes that were interrupted more than an hour ago.
    pub async fn open(root: PathBuf) -> Result<Self, StoreError> {
        let store = Self { root };
        create_private_dir(&store.root).await?;
        create_private_dir(&store.temp_dir()).await?;
        store.remove_stale_temp_files(STALE_TEMP_AGE).await?;
        Ok(store)
    }

    fn temp_dir(&self) -> PathBuf {
        self.root.join(TEMP_DIR)
    }

    fn path_of(&self, key: &BlobKey) -> PathBuf {
        self.root.join(key.as_str())
    }

    /// Removes files in the temporary directory not modified for `age`. The age threshold
    /// spares writes in progress in another process sharing the root.
    async fn remove_stale_temp_files(&self, age: Duration) -> Result<(), StoreError> {
        let mut entries = tokio::fs::read_dir(self.temp_dir()).await?;
        let now = SystemTime::now();
        while let Some(entry) = entries.next_entry().await? {
            let modified = entry.metadata().await?.modified()?;
            if now.duration_since(modified).unwrap_or_default() >= age {
                remove_if_present(&entry.path()).await?;
            }
        }
        Ok(())
    }

    /// Creates the directories between the root and `path`, fsyncing each parent that
    /// gained an entry so the new object's directory survives a crash.
    async fn ensure_parent(&self, key: &BlobKey) -> Result<PathBuf, StoreError> {
        let mut dir = self.root.clone();
        let segments: Vec<&str> = key.as_str().split('/').collect();
        for segment in &segments[..segments.len() - 1] {
            let child = dir.join(segment);
            match tokio::fs::create_dir(&child).await {
                Ok(()) => fsync_dir(&dir).await?,
                Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {}
                Err(e) => return Err(e.into()),
            }
            dir = child;
        }
        Ok(dir)
    }

    /// Streams `body` into the temporary file and makes its content durable.
    async fn write_temp(&self, temp: &TempFile, mut body: ByteStream) -> Result<u64, StoreError> {
        let mut file = tokio::fs::OpenOptions::new()
            .write(true)
            .create_new(true)
            .mode(0o600)
            .open(&temp.path)
            .await?;
        let mut written = 0u64;
        while let Some(chunk) = body.next().await {
            let chunk = chunk?;
            file.write_all(&chunk).await?;
            written += chunk.len() as u64;
        }
        file.flush().await?;
        file.sync_all().await?;
        Ok(written)
    }
}

#[async_trait]
impl BlobStore for FsStore {
    async fn put(&self, key: &BlobKey, body: ByteStream) -> Result<u64, StoreError> {
        let target = self.path_of(key);
        if tokio::fs::symlink_metadata(&target).await.is_ok() {
            return Err(StoreError::AlreadyExists);
        }
        let temp = TempFile::new(&self.temp_dir());
        let written = self.write_temp(&temp, body).await?;
        let parent = self.ensure_parent(key).await?;
        match tokio::fs::hard_link(&temp.path, &target).await {
            Ok(()) => {}
            Err(e) if e.kind() == io::ErrorKind::AlreadyExists => {
                return Err(StoreError::AlreadyExists)
            }
            Err(e) => return Err(e.into()),
        }
        fsync_dir(&parent).await?;
        temp.remove().await?;
        Ok(written)
    }

    async fn get(&self, key: &BlobKey) -> Result<ByteStream, StoreError> {
        let path = self.path_of(key);
        let file = match tokio::fs::File::open(&path).await {
            Ok(file) => file,
            Err(e) if e.kind() == io::ErrorKind::NotFound => return Err(StoreError::NotFound),
            Err(e) => return Err(e.into()),
        };
        if !file.metadata().await?.is_file() {
            return Err(StoreError::NotFound);
        }
        Ok(Box::pin(ReaderStream::with_capacity(file, READ_CHUNK)))
    }

    async fn delete(&self, key: &BlobKey) -> Result<(), StoreError> {
        let path = self.path_of(key);
        match tokio::fs::symlink_metadata(&path).await {
            Ok(meta) if meta.is_file() => {
                remove_if_present(&path).await?;
                if let Some(parent) = path.parent() {
                    fsync_dir(parent).await?;
                }
                Ok(())
            }
            // Absent, or a directory that only holds other keys: no object here.
            Ok(_) => Ok(()),
            Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(e.into()),
        }
    }

    async fn list(&self, prefix: &str) -> Result<Vec<BlobKey>, StoreError> {
        // Walk only the deepest directory the prefix names. That directory is made of whole
        // segments of any matching key, so it is itself a valid key; if it is not, nothing
        // can match, and checking it first keeps the walk inside the root.
        let start = match prefix.rsplit_once('/') {
            Some((dir, _)) => match BlobKey::new(dir) {
                Ok(dir) => self.root.join(dir.as_str()),
                Err(_) => return Ok(Vec::new()),
            },
            None => self.root.clone(),
        };
        let root = self.root.clone();
        let prefix = prefix.to_owned();
        tokio::task::spawn_blocking(move || list_files(&root, &start, &prefix))
            .await
            .map_err(|_| StoreError::Backend("listing task failed".into()))?
    }
}

/// Collects, sorted, the keys of the regular files below `start` that begin with `prefix`.
fn list_files(root: &Path, start: &Path, prefix: &str) -> Result<Vec<BlobKey>, StoreError> {
    let mut keys = Vec::new();
    let mut pending = vec![start.to_path_buf()];
    while let Some(dir) = pending.pop() {
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == io::ErrorKind::NotFound => continue,
            Err(e) if e.kind() == io::ErrorKind::NotADirectory => continue,
            Err(e) => return Err(e.into()),
        };
        for entry in entries {
            let entry = entry?;
            let path = entry.path();
            let file_type = entry.file_type()?;
            if file_type.is_dir() {
                pending.push(path);
            } else if file_type.is_file() {
                if let Some(key) = key_of(root, &path) {
                    if key.as_str().starts_with(prefix) {
                        keys.push(key);
                    }
                }
            }
        }
    }
    keys.sort();
    Ok(keys)
}

/// The key a file under the root stands for; `None` for files that are not objects
/// (the temporary directory's content, stray files with invalid names).
fn key_of(root: &Path, path: &Path) -> Option<BlobKey> {
    let relative = path.strip_prefix(root).ok()?.to_str()?;
    BlobKey::new(relative).ok()
}

/// A uniquely named temporary file that is removed when dropped unless already removed.
struct TempFile {
    path: PathBuf,
    removed: bool,
}

impl TempFile {
    fn new(dir: &Path) -> Self {
        let name = format!("{}.part", uuid::Uuid::new_v4().simple());
        Self {
            path: dir.join(name),
            removed: false,
        }
    }

    async fn remove(mut self) -> Result<(), StoreError> {
        self.removed = true;
        remove_if_present(&self.path).await
    }
}

impl Drop for TempFile {
    fn drop(&mut self) {
        if !self.removed {
            // Best effort: runs on error and when the put future is dropped mid-write.
            let _ = std::fs::remove_file(&self.path);
        }
    }
}

async fn remove_if_present(path: &Path) -> Result<(), StoreError> {
    match tokio::fs::remove_file(path).await {
        Err(e) if e.kind() != io::ErrorKind::NotFound => Err(e.into()),
        _ => Ok(()),
    }
}

async fn fsync_dir(dir: &Path) -> Result<(), StoreError> {
    tokio::fs::File::open(dir).await?.sync_all().await?;
    Ok(())
}

async fn create_private_dir(dir: &Path) -> Result<(), StoreError> {
    let mut builder = tokio::fs::DirBuilder::new();
    builder.recursive(true).mode(0o700);
    builder.create(dir).await?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use bytes::Bytes;
    use futures::stream;

    fn body(chunks: Vec<&'static [u8]>) -> ByteStream {
        Box::pin(stream::iter(
            chunks.into_iter().map(|c| Ok(Bytes::from_static(c))),
        ))
    }

    fn temp_entries(root: &Path) -> usize {
        std::fs::read_dir(root.join(TEMP_DIR)).unwrap().count()
    }

    #[tokio::test]
    async fn a_put_lands_as_a_file_under_the_root_and_leaves_no_temp_file() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::open(dir.path().to_path_buf()).await.unwrap();
        let key = BlobKey::new("calls/c1/transcript").unwrap();
        let n = store.put(&key, body(vec![b"ab", b"cd"])).await.unwrap();
        assert_eq!(n, 4);
        assert_eq!(
            std::fs::read(dir.path().join("calls/c1/transcript")).unwrap(),
            b"abcd"
        );
        assert_eq!(temp_entries(dir.path()), 0);
    }

    #[tokio::test]
    async fn open_removes_stale_temp_files_and_keeps_fresh_ones() {
        let dir = tempfile::tempdir().unwrap();
        std::fs::create_dir_all(dir.path().join(TEMP_DIR)).unwrap();
        let stale = dir.path().join(TEMP_DIR).join("stale.part");
        let fresh = dir.path().join(TEMP_DIR).join("fresh.part");
        let file = std::fs::File::create(&stale).unwrap();
        let old = SystemTime::now() - STALE_TEMP_AGE - Duration::from_secs(60);
        file.set_modified(old).unwrap();
        std::fs::write(&fresh, b"x").unwrap();
        FsStore::open(dir.path().to_path_buf()).await.unwrap();
        assert!(!stale.exists());
        assert!(fresh.exists());
    }

    #[tokio::test]
    async fn a_dropped_put_leaves_no_temp_file_and_no_object() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::open(dir.path().to_path_buf()).await.unwrap();
        let key = BlobKey::new("k").unwrap();
        let (tx, rx) = tokio::sync::oneshot::channel::<()>();
        let first = stream::iter([Ok(Bytes::from_static(b"partial"))]);
        let stalled = stream::once(async move {
            let _ = tx.send(());
            futures::future::pending::<io::Result<Bytes>>().await
        });
        let put = store.put(&key, Box::pin(first.chain(stalled)));
        tokio::select! {
            _ = put => panic!("put finished with a stalled body"),
            _ = rx => {}
        }
        assert_eq!(temp_entries(dir.path()), 0);
        assert!(matches!(store.get(&key).await, Err(StoreError::NotFound)));
    }

    #[tokio::test]
    async fn racing_puts_of_one_key_publish_exactly_one_object() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::open(dir.path().to_path_buf()).await.unwrap();
        let key = BlobKey::new("race/k").unwrap();
        let (a, b) = tokio::join!(
            store.put(&key, body(vec![b"first"])),
            store.put(&key, body(vec![b"second"]))
        );
        let wins = [&a, &b].iter().filter(|r| r.is_ok()).count();
        assert_eq!(wins, 1, "{a:?} {b:?}");
        assert!(matches!(
            [a, b].into_iter().find(|r| r.is_err()),
            Some(Err(StoreError::AlreadyExists))
        ));
        assert_eq!(temp_entries(dir.path()), 0);
    }

    #[tokio::test]
    async fn list_skips_the_temp_directory_and_never_leaves_the_root() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::open(dir.path().to_path_buf()).await.unwrap();
        std::fs::write(dir.path().join(TEMP_DIR).join("x.part"), b"x").unwrap();
        store
            .put(&BlobKey::new("a").unwrap(), body(vec![b"1"]))
            .await
            .unwrap();
        let all: Vec<String> = store
            .list("")
            .await
            .unwrap()
            .iter()
            .map(|k| k.to_string())
            .collect();
        assert_eq!(all, ["a"]);
        std::fs::write(dir.path().join("outside"), b"x").unwrap();
        let nested = FsStore::open(dir.path().join("nested")).await.unwrap();
        assert_eq!(nested.list("../").await.unwrap(), []);
        assert_eq!(nested.list("..").await.unwrap(), []);
    }

    #[tokio::test]
    async fn a_key_that_is_a_directory_reads_as_absent() {
        let dir = tempfile::tempdir().unwrap();
        let store = FsStore::open(dir.path().to_path_buf()).await.unwrap();
        store
            .put(&BlobKey::new("d/k").unwrap(), body(vec![b"1"]))
            .await
            .unwrap();
        let d = BlobKey::new("d").unwrap();
        assert!(matches!(store.get(&d).await, Err(StoreError::NotFound)));
        store.delete(&d).await.unwrap();
        assert_eq!(store.list("d/").await.unwrap().len(), 1);
    }
}
