//! The store's story, on every engine.

use isms_domain::Role;
use isms_store::{Actor, Store, StoreError, Via};

use crate::support::{add, org_with, stores};

#[tokio::test]
async fn migrations_are_idempotent_and_both_engines_have_the_same_schema() {
    let mut outlines = Vec::new();
    for (engine, store) in stores().await {
        assert_eq!(
            store.migrate().await.unwrap(),
            0,
            "{engine}: second run applies nothing"
        );
        outlines.push((engine, store.schema_outline().await.unwrap()));
    }
    let (_, sqlite) = &outlines[0];
    assert!(
        sqlite
            .iter()
            .any(|(t, c)| t == "audit_log" && c == "prev_hash")
    );
    for (engine, other) in &outlines[1..] {
        assert_eq!(sqlite, other, "{engine} schema differs from SQLite's");
    }
}

#[tokio::test]
async fn a_database_newer_than_the_binary_is_refused() {
    for (engine, url) in crate::support::database_urls().await {
        let store = Store::open(&url).await.unwrap();
        store
            .execute_raw("INSERT INTO schema_migrations (version, name, applied_at) VALUES (999, 'future', 'x')")
            .await
            .unwrap();
        let err = Store::open(&url).await.unwrap_err();
        assert!(
            matches!(err, StoreError::TooNew { found: 999, .. }),
            "{engine}: {err}"
        );
        assert!(err.to_string().contains("upgrade isms"));
    }
}

#[tokio::test]
async fn an_unreachable_database_is_named_with_its_password_hidden() {
    let err = Store::open("postgres://ann:s3cret@127.0.0.1:1/nothing")
        .await
        .unwrap_err();
    let msg = err.to_string();
    assert!(
        msg.contains("postgres://ann:****@127.0.0.1:1/nothing"),
        "{msg}"
    );
    assert!(!msg.contains("s3cret"));
    let err = Store::open("mysql://x@y/z").await.unwrap_err();
    assert!(err.to_string().contains("unsupported scheme"));
}

#[tokio::test]
async fn organisations_get_unique_slugs_and_members_roles() {
    for (engine, store) in stores().await {
        let a = org_with(&store, "Acme Ltd", "ann@acme.test", Role::Admin).await;
        let b = store.create_org("Acme Ltd", &Actor::cli()).await.unwrap();
        assert_eq!(a.slug, "acme-ltd");
        assert_eq!(b.slug, "acme-ltd-2", "{engine}");
        assert!(matches!(
            store.create_org("  ", &Actor::cli()).await,
            Err(StoreError::Invalid(_))
        ));

        // The same person in two organisations keeps one account.
        let bob_a = add(&store, &a, "Bob@Acme.test", Role::Employee).await;
        let bob_b = add(&store, &b, "bob@acme.test", Role::Auditor).await;
        assert_eq!(bob_a, bob_b, "{engine}: e-mails are case-insensitive");
        let orgs = store.orgs_of_user(bob_a).await.unwrap();
        assert_eq!(orgs.len(), 2);
        let dup = store
            .add_member(a.id, "bob@acme.test", "", "x", Role::Admin, &Actor::cli())
            .await
            .unwrap_err();
        assert!(matches!(dup, StoreError::Conflict(_)), "{engine}: {dup}");

        // Tenants never see each other's members.
        let a_members: Vec<_> = store
            .members(a.id)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.email)
            .collect();
        let b_members: Vec<_> = store
            .members(b.id)
            .await
            .unwrap()
            .into_iter()
            .map(|m| m.email)
            .collect();
        assert_eq!(a_members, vec!["ann@acme.test", "bob@acme.test"]);
        assert_eq!(b_members, vec!["bob@acme.test"]);
    }
}

#[tokio::test]
async fn the_last_admin_cannot_be_demoted_or_deactivated() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Solo", "solo@x.test", Role::Admin).await;
        let solo = store.user_by_email("solo@x.test").await.unwrap().unwrap();
        let actor = Actor::user(solo.id, &solo.email, Via::Web);
        let err = store
            .set_member_role(org.id, solo.id, Role::Employee, &actor)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("last active administrator"),
            "{engine}: {err}"
        );
        let err = store
            .set_member_active(org.id, solo.id, false, &actor)
            .await
            .unwrap_err();
        assert!(err.to_string().contains("last active administrator"));
        assert_eq!(
            store.member(org.id, solo.id).await.unwrap().unwrap().role,
            Role::Admin
        );

        // With a second admin, the first can step down.
        let other = add(&store, &org, "other@x.test", Role::Admin).await;
        store
            .set_member_role(org.id, solo.id, Role::Employee, &actor)
            .await
            .unwrap();
        assert_eq!(
            store.member(org.id, solo.id).await.unwrap().unwrap().role,
            Role::Employee
        );
        assert!(store.member(org.id, other).await.unwrap().unwrap().active);
    }
}

#[tokio::test]
async fn deactivation_ends_sessions_and_revokes_tokens() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "admin@x.test", Role::Admin).await;
        let emp = add(&store, &org, "emp@x.test", Role::Employee).await;
        let session = store
            .create_session(
                emp,
                org.id,
                &isms_store::time_from_now(time::Duration::hours(1)),
            )
            .await
            .unwrap();
        let (_, token) = store
            .create_token(org.id, emp, "t", &Actor::cli())
            .await
            .unwrap();
        assert!(
            store
                .session_by_token(&session.token)
                .await
                .unwrap()
                .is_some()
        );
        assert!(store.user_by_token(&token).await.unwrap().is_some());
        store
            .set_member_active(org.id, emp, false, &Actor::cli())
            .await
            .unwrap();
        assert!(
            store
                .session_by_token(&session.token)
                .await
                .unwrap()
                .is_none(),
            "{engine}"
        );
        assert!(
            store.user_by_token(&token).await.unwrap().is_none(),
            "{engine}"
        );
        let err = store
            .create_token(org.id, emp, "again", &Actor::cli())
            .await
            .unwrap_err();
        assert!(err.to_string().contains("deactivated"));
    }
}

#[tokio::test]
async fn sessions_only_switch_to_organisations_of_the_user() {
    for (engine, store) in stores().await {
        let a = org_with(&store, "A", "ann@x.test", Role::Admin).await;
        let b = org_with(&store, "B", "bea@x.test", Role::Admin).await;
        let ann = store.user_by_email("ann@x.test").await.unwrap().unwrap();
        let s = store
            .create_session(
                ann.id,
                a.id,
                &isms_store::time_from_now(time::Duration::hours(1)),
            )
            .await
            .unwrap();
        let err = store
            .switch_session_org(s.id, ann.id, b.id, &Actor::cli())
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::NotFound(_)), "{engine}");
        let su = store.session_by_token(&s.token).await.unwrap().unwrap();
        assert_eq!(su.org_id, a.id);
        add(&store, &b, "ann@x.test", Role::Auditor).await;
        store
            .switch_session_org(s.id, ann.id, b.id, &Actor::cli())
            .await
            .unwrap();
        let su = store.session_by_token(&s.token).await.unwrap().unwrap();
        assert_eq!((su.org_id, su.role), (b.id, Role::Auditor), "{engine}");
    }
}

#[tokio::test]
async fn tokens_are_stored_hashed_and_can_be_revoked() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let ann = store.user_by_email("ann@x.test").await.unwrap().unwrap();
        let (id, secret) = store
            .create_token(org.id, ann.id, "ci", &Actor::cli())
            .await
            .unwrap();
        assert!(secret.starts_with("isms_"));
        let leaked = store
            .execute_raw(&format!(
                "UPDATE api_tokens SET name = name WHERE token_hash = '{secret}'"
            ))
            .await
            .unwrap();
        assert_eq!(leaked, 0, "{engine}: the secret itself is not stored");
        let who = store.user_by_token(&secret).await.unwrap().unwrap();
        assert_eq!(
            (who.email.as_str(), who.org_id, who.role),
            ("ann@x.test", org.id, Role::Admin)
        );
        assert!(store.user_by_token("isms_wrong").await.unwrap().is_none());
        store
            .revoke_token(org.id, ann.id, id, &Actor::cli())
            .await
            .unwrap();
        assert!(store.user_by_token(&secret).await.unwrap().is_none());
        let again = store
            .revoke_token(org.id, ann.id, id, &Actor::cli())
            .await
            .unwrap_err();
        assert!(matches!(again, StoreError::NotFound(_)));
    }
}
