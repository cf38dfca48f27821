use super::*;
use crate::audit::keys::MacKey;
use crate::audit::merkle::root;
use crate::audit::note::Signer;
use crate::catalog::{AuditRow, StoredCheckpoint};

fn keys() -> AuditKeys {
    AuditKeys::new(
        Signer::generate("test.example/log").unwrap(),
        MacKey::generate(),
    )
}

fn records(n: usize) -> Vec<AuditRecord> {
    (0..n)
        .map(|i| AuditRecord {
            leaf: format!("leaf {i}").into_bytes(),
            objects: Vec::new(),
        })
        .collect()
}

/// The tip after `seal` was written.
fn tip_after(seal: &BatchSeal, created_ms: i64) -> AuditTip {
    AuditTip {
        leaf_count: seal.state.size,
        state: Some(seal.state.clone()),
        last_history: seal.history_ms.map(|_| StoredCheckpoint {
            size: seal.state.size,
            note: seal.state.note.clone(),
            created_ms,
        }),
        unadopted: Vec::new(),
    }
}

#[test]
fn sealing_two_batches_signs_the_root_of_all_leaves() {
    let k = keys();
    let all = records(5);
    let first = seal_batch(&k, &AuditTip::default(), &all[..2], 0).unwrap();
    let second = seal_batch(&k, &tip_after(&first, 0), &all[2..], 10).unwrap();
    let cp = Checkpoint::open(&second.state.note, &[k.signer.verifier()]).unwrap();
    let hashes: Vec<_> = all.iter().map(|r| leaf_hash(&r.leaf)).collect();
    assert_eq!((cp.size, cp.root), (5, root(&hashes)));
    assert!(k.mac.check(2, &hashes[2], &second.macs[0]));
    assert_eq!(first.history_ms, Some(0));
    assert_eq!(second.history_ms, None, "history at most once a second");
}

#[test]
fn a_state_signed_by_another_key_is_refused() {
    let first = seal_batch(&keys(), &AuditTip::default(), &records(2), 0).unwrap();
    let err = seal_batch(&keys(), &tip_after(&first, 0), &records(1), 1);
    assert_eq!(err, Err(SealError::Inconsistent));
}

#[test]
fn a_tip_whose_leaves_disagree_with_the_state_is_refused() {
    let k = keys();
    let first = seal_batch(&k, &AuditTip::default(), &records(3), 0).unwrap();
    for leaf_count in [2, 4] {
        let mut tip = tip_after(&first, 0);
        tip.leaf_count = leaf_count;
        assert_eq!(
            seal_batch(&k, &tip, &records(1), 1),
            Err(SealError::Inconsistent)
        );
    }
}

#[test]
fn a_state_behind_the_history_is_refused() {
    let k = keys();
    let first = seal_batch(&k, &AuditTip::default(), &records(3), 0).unwrap();
    let mut tip = tip_after(&first, 0);
    tip.last_history.as_mut().unwrap().size = 4;
    assert_eq!(
        seal_batch(&k, &tip, &records(1), 1),
        Err(SealError::Inconsistent)
    );
}

#[test]
fn untagged_leaves_without_a_state_are_adopted_but_not_after_a_state_existed() {
    let k = keys();
    let old = AuditTip {
        leaf_count: 2,
        unadopted: (0..2)
            .map(|i| AuditRow {
                index: i,
                leaf: vec![i as u8],
                mac: None,
            })
            .collect(),
        ..AuditTip::default()
    };
    let sealed = seal_batch(&k, &old, &records(1), 0).unwrap();
    assert_eq!(sealed.adopted_macs.len(), 2);
    assert_eq!(sealed.state.size, 3);
    let mut tagged = old.clone();
    tagged.unadopted[1].mac = Some(vec![0; 32]);
    assert!(seal_batch(&k, &tagged, &records(1), 0).is_err());
    let mut with_history = old;
    with_history.last_history = tip_after(&sealed, 0).last_history;
    assert!(seal_batch(&k, &with_history, &records(1), 0).is_err());
}
