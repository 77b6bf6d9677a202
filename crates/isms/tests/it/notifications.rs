//! The in-app inbox store on every engine: messages per member and
//! organisation, deduplicated by key, unread counts, marking read, and no
//! message to someone outside the organisation.

use isms_domain::Role;
use isms_store::NewNotification;

use crate::support::{add, org_with, stores};

#[tokio::test]
async fn inbox_is_per_member_deduplicated_and_marked_read() {
    for (engine, store) in stores().await {
        let org = org_with(&store, "Acme", "ann@x.test", Role::Admin).await;
        let bob = add(&store, &org, "bob@x.test", Role::Employee).await;
        let other = org_with(&store, "Other", "eve@y.test", Role::Admin).await;
        let eve = add(&store, &other, "eve2@y.test", Role::Employee).await;

        let msg = NewNotification {
            category: "reminder",
            title: "Read the access control policy",
            link: "/documents/1",
            dedupe_key: Some("doc-1-v1"),
            ..Default::default()
        };
        assert!(store.notify(org.id, bob, &msg).await.unwrap(), "{engine}");
        assert!(
            !store.notify(org.id, bob, &msg).await.unwrap(),
            "{engine}: deduplicated"
        );
        let plain = NewNotification {
            category: "assignment",
            title: "You own RISK-7",
            ..Default::default()
        };
        assert!(store.notify(org.id, bob, &plain).await.unwrap());
        assert!(
            store.notify(org.id, bob, &plain).await.unwrap(),
            "no key: each is kept"
        );
        let err = store.notify(org.id, eve, &plain).await.unwrap_err();
        assert!(err.to_string().contains("not a member"), "{engine}: {err}");
        let err = store
            .notify(
                org.id,
                bob,
                &NewNotification {
                    category: "x",
                    title: "  ",
                    ..Default::default()
                },
            )
            .await
            .unwrap_err();
        assert!(err.to_string().contains("title"), "{err}");

        assert_eq!(
            store.unread_count(org.id, bob).await.unwrap(),
            3,
            "{engine}"
        );
        assert_eq!(store.unread_count(other.id, bob).await.unwrap(), 0);
        let inbox = store.inbox(org.id, bob, false).await.unwrap();
        assert_eq!(inbox.len(), 3);
        assert_eq!(
            inbox[2].title, "Read the access control policy",
            "newest first"
        );
        assert_eq!(
            store
                .mark_read(other.id, bob, Some(inbox[0].id))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .mark_read(org.id, eve, Some(inbox[0].id))
                .await
                .unwrap(),
            0
        );
        assert_eq!(
            store
                .mark_read(org.id, bob, Some(inbox[0].id))
                .await
                .unwrap(),
            1
        );
        assert_eq!(store.inbox(org.id, bob, true).await.unwrap().len(), 2);
        assert_eq!(
            store.mark_read(org.id, bob, None).await.unwrap(),
            2,
            "{engine}"
        );
        assert_eq!(store.unread_count(org.id, bob).await.unwrap(), 0);
    }
}
