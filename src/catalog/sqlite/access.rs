//! [`AccessStore`] for SQLite.

use async_trait::async_trait;
use sqlx::sqlite::SqliteRow;
use sqlx::{QueryBuilder, Row, Sqlite};

use super::SqliteCatalog;
use crate::catalog::{AccessStore, CatalogError};
use crate::catalog::{CallSelector, GrantRecord, RequestRecord};

const REQUEST_COLUMNS: &str = "id, requester, purpose, level, duration_s, call_ids_json, \
    query_json, status, approvals_json, decision_json, created_at, version";

const GRANT_COLUMNS: &str = "id, request_id, requester, approvers_json, purpose, level, \
    call_ids_json, from_query, not_before, not_after, revoked";

#[async_trait]
impl AccessStore for SqliteCatalog {
    async fn insert_request(&self, r: &RequestRecord) -> Result<(), CatalogError> {
        let sql = format!(
            "INSERT INTO access_requests ({REQUEST_COLUMNS}) \
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)"
        );
        let result = sqlx::query(&sql)
            .bind(&r.id)
            .bind(&r.requester)
            .bind(&r.purpose)
            .bind(&r.level)
            .bind(r.duration_s)
            .bind(&r.call_ids_json)
            .bind(&r.query_json)
            .bind(&r.status)
            .bind(&r.approvals_json)
            .bind(&r.decision_json)
            .bind(&r.created_at)
            .bind(r.version)
            .execute(&self.pool)
            .await;
        match result {
            Ok(_) => Ok(()),
            Err(sqlx::Error::Database(e)) if e.is_unique_violation() => {
                Err(CatalogError::Conflict("request id already exists"))
            }
            Err(e) => Err(e.into()),
        }
    }

    async fn get_request(&self, id: &str) -> Result<Option<RequestRecord>, CatalogError> {
        let sql = format!("SELECT {REQUEST_COLUMNS} FROM access_requests WHERE id = $1");
        let row = sqlx::query(&sql)
            .bind(id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(request_from_row).transpose()
    }

    async fn list_requests(
        &self,
        requester: Option<&str>,
        limit: u32,
    ) -> Result<Vec<RequestRecord>, CatalogError> {
        let mut q =
            QueryBuilder::<Sqlite>::new(format!("SELECT {REQUEST_COLUMNS} FROM access_requests"));
        if let Some(r) = requester {
            q.push(" WHERE requester = ").push_bind(r);
        }
        q.push(" ORDER BY created_at DESC, id DESC LIMIT ")
            .push_bind(i64::from(limit));
        let rows = q.build().fetch_all(&self.pool).await?;
        rows.iter().map(request_from_row).collect()
    }

    async fn update_request(
        &self,
        r: &RequestRecord,
        grant: Option<&GrantRecord>,
    ) -> Result<bool, CatalogError> {
        let mut tx = self.pool.begin().await?;
        let done = sqlx::query(
            "UPDATE access_requests SET status = $1, approvals_json = $2, decision_json = $3, \
             version = $4 WHERE id = $5 AND version = $6",
        )
        .bind(&r.status)
        .bind(&r.approvals_json)
        .bind(&r.decision_json)
        .bind(r.version)
        .bind(&r.id)
        .bind(r.version - 1)
        .execute(&mut *tx)
        .await?;
        if done.rows_affected() != 1 {
            return Ok(false);
        }
        if let Some(g) = grant {
            let sql = format!(
                "INSERT INTO grants ({GRANT_COLUMNS}) \
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
            );
            sqlx::query(&sql)
                .bind(&g.id)
                .bind(&g.request_id)
                .bind(&g.requester)
                .bind(&g.approvers_json)
                .bind(&g.purpose)
                .bind(&g.level)
                .bind(&g.call_ids_json)
                .bind(g.from_query)
                .bind(g.not_before)
                .bind(g.not_after)
                .bind(g.revoked)
                .execute(&mut *tx)
                .await?;
        }
        if r.status == "revoked" {
            sqlx::query("UPDATE grants SET revoked = 1 WHERE request_id = $1")
                .bind(&r.id)
                .execute(&mut *tx)
                .await?;
        }
        tx.commit().await?;
        Ok(true)
    }

    async fn grant_of_request(
        &self,
        request_id: &str,
    ) -> Result<Option<GrantRecord>, CatalogError> {
        let sql = format!("SELECT {GRANT_COLUMNS} FROM grants WHERE request_id = $1");
        let row = sqlx::query(&sql)
            .bind(request_id)
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref().map(grant_from_row).transpose()
    }

    async fn live_grants(
        &self,
        requester: &str,
        now: i64,
    ) -> Result<Vec<GrantRecord>, CatalogError> {
        let sql = format!(
            "SELECT {GRANT_COLUMNS} FROM grants \
             WHERE requester = $1 AND revoked = 0 AND not_after > $2 ORDER BY id"
        );
        let rows = sqlx::query(&sql)
            .bind(requester)
            .bind(now)
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(grant_from_row).collect()
    }

    async fn index_customer(&self, call_id: &str, macs: &[Vec<u8>]) -> Result<(), CatalogError> {
        if macs.is_empty() {
            return Ok(());
        }
        let mut q = QueryBuilder::<Sqlite>::new("INSERT INTO customer_index (mac, call_id) ");
        q.push_values(macs, |mut b, mac| {
            b.push_bind(mac).push_bind(call_id);
        });
        q.push(" ON CONFLICT (mac, call_id) DO NOTHING");
        q.build().execute(&self.pool).await?;
        Ok(())
    }

    async fn select_calls(
        &self,
        sel: &CallSelector,
        limit: u32,
    ) -> Result<Vec<String>, CatalogError> {
        let mut q = QueryBuilder::<Sqlite>::new("SELECT c.call_id FROM calls c");
        if let Some(mac) = &sel.customer_mac {
            q.push(" JOIN customer_index i ON i.call_id = c.call_id AND i.mac = ")
                .push_bind(mac.clone());
        }
        q.push(" WHERE 1 = 1");
        if let Some(agent) = &sel.agent_id {
            q.push(" AND c.agent_id = ").push_bind(agent.clone());
        }
        if let Some(from) = &sel.from {
            q.push(" AND c.started_at >= ").push_bind(from.clone());
        }
        if let Some(to) = &sel.to {
            q.push(" AND c.started_at < ").push_bind(to.clone());
        }
        q.push(" ORDER BY c.call_id LIMIT ")
            .push_bind(i64::from(limit));
        let ids = q
            .build()
            .fetch_all(&self.pool)
            .await?
            .iter()
            .map(|r| r.try_get::<String, _>(0))
            .collect::<Result<_, _>>()?;
        Ok(ids)
    }
}

fn request_from_row(row: &SqliteRow) -> Result<RequestRecord, CatalogError> {
    Ok(RequestRecord {
        id: row.try_get("id")?,
        requester: row.try_get("requester")?,
        purpose: row.try_get("purpose")?,
        level: row.try_get("level")?,
        duration_s: row.try_get("duration_s")?,
        call_ids_json: row.try_get("call_ids_json")?,
        query_json: row.try_get("query_json")?,
        status: row.try_get("status")?,
        approvals_json: row.try_get("approvals_json")?,
        decision_json: row.try_get("decision_json")?,
        created_at: row.try_get("created_at")?,
        version: row.try_get("version")?,
    })
}

fn grant_from_row(row: &SqliteRow) -> Result<GrantRecord, CatalogError> {
    Ok(GrantRecord {
        id: row.try_get("id")?,
        request_id: row.try_get("request_id")?,
        requester: row.try_get("requester")?,
        approvers_json: row.try_get("approvers_json")?,
        purpose: row.try_get("purpose")?,
        level: row.try_get("level")?,
        call_ids_json: row.try_get("call_ids_json")?,
        from_query: row.try_get("from_query")?,
        not_before: row.try_get("not_before")?,
        not_after: row.try_get("not_after")?,
        revoked: row.try_get("revoked")?,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    async fn catalog() -> (tempfile::TempDir, SqliteCatalog) {
        let dir = tempfile::tempdir().expect("tempdir");
        let cat = SqliteCatalog::open(&dir.path().join("c.db"))
            .await
            .expect("open");
        (dir, cat)
    }

    fn request(id: &str) -> RequestRecord {
        RequestRecord {
            id: id.into(),
            requester: "auditor".into(),
            purpose: "complaint 42".into(),
            level: "masked".into(),
            duration_s: 3600,
            call_ids_json: Some(r#"["c1"]"#.into()),
            query_json: None,
            status: "pending".into(),
            approvals_json: "[]".into(),
            decision_json: None,
            created_at: "2026-11-26T00:00:00Z".into(),
            version: 1,
        }
    }

    fn grant(id: &str, request_id: &str) -> GrantRecord {
        GrantRecord {
            id: id.into(),
            request_id: request_id.into(),
            requester: "auditor".into(),
            approvers_json: r#"["compliance"]"#.into(),
            purpose: "complaint 42".into(),
            level: "masked".into(),
            call_ids_json: r#"["c1"]"#.into(),
            from_query: false,
            not_before: 100,
            not_after: 200,
            revoked: false,
        }
    }

    #[tokio::test]
    async fn only_one_of_two_racing_approvals_wins_and_the_grant_is_stored_with_it() {
        let (_d, cat) = catalog().await;
        cat.insert_request(&request("r1")).await.expect("insert");
        let mut a = request("r1");
        a.status = "approved".into();
        a.version = 2;
        let b = a.clone();
        assert!(cat
            .update_request(&a, Some(&grant("g1", "r1")))
            .await
            .expect("first"));
        assert!(!cat
            .update_request(&b, Some(&grant("g2", "r1")))
            .await
            .expect("second"));
        assert_eq!(
            cat.grant_of_request("r1").await.expect("get").map(|g| g.id),
            Some("g1".to_string())
        );
        assert_eq!(
            cat.live_grants("auditor", 150).await.expect("live").len(),
            1
        );
        assert!(cat
            .live_grants("auditor", 200)
            .await
            .expect("live")
            .is_empty());
    }

    #[tokio::test]
    async fn revoking_a_request_revokes_its_grant() {
        let (_d, cat) = catalog().await;
        cat.insert_request(&request("r1")).await.expect("insert");
        let mut r = request("r1");
        r.status = "approved".into();
        r.version = 2;
        assert!(cat
            .update_request(&r, Some(&grant("g1", "r1")))
            .await
            .expect("approve"));
        r.status = "revoked".into();
        r.version = 3;
        assert!(cat.update_request(&r, None).await.expect("revoke"));
        assert!(cat
            .live_grants("auditor", 150)
            .await
            .expect("live")
            .is_empty());
        let g = cat
            .grant_of_request("r1")
            .await
            .expect("get")
            .expect("grant");
        assert!(g.revoked);
    }

    #[tokio::test]
    async fn selectors_combine_agent_time_and_customer() {
        let (_d, cat) = catalog().await;
        cat.index_customer("c1", &[vec![1; 32], vec![2; 32]])
            .await
            .expect("index");
        cat.index_customer("c1", &[vec![1; 32]])
            .await
            .expect("again");
        let sel = CallSelector {
            customer_mac: Some(vec![1; 32]),
            ..CallSelector::default()
        };
        // No call rows yet: the index alone selects nothing.
        assert!(cat.select_calls(&sel, 10).await.expect("select").is_empty());
    }
}
