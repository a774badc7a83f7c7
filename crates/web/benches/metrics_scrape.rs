//! The cost of one `/metrics` scrape (and one `/readyz`) on the web test estate after 1,000
//! decisions: gathering the facts (a read on the core's task, the disk's free space, the
//! queues) and encoding the exposition. Release build only (`cargo bench`); figures in
//! `docs/benchmarks.md`.
//!
//! cargo bench -p gatehouse-web --bench metrics_scrape

#[path = "../tests/support/mod.rs"]
mod support;

use axum::body::Body;
use axum::http::Request;
use criterion::{Criterion, criterion_group, criterion_main};
use gatehouse_core::Direction;
use gatehouse_core::io::{AccessPoint, AccessRequest, Credential, Input};
use gatehouse_web::ops::{self, Ops};
use tower::ServiceExt;

fn scrape(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let estate = rt.block_on(async {
        let estate = support::estate().await;
        for i in 0..1_000u32 {
            // Known, revoked and unknown cards: several label sets in the counters.
            let card = match i % 3 {
                0 => "04A1B2C3".to_string(),
                1 => "04A1B2C4".to_string(),
                _ => format!("0B{i:06X}"),
            };
            let swipe = Input::Access(AccessRequest {
                point: AccessPoint::Door {
                    door: "gate-b".into(),
                    direction: Direction::In,
                },
                credential: Credential::Card(card.parse().expect("card")),
                pin: None,
                requested_at: None,
                actor: None,
                source: "bench".into(),
            });
            estate.gateway.submit(swipe).await.expect("decided");
        }
        estate
    });
    let router = ops::router(Ops {
        gateway: estate.gateway.clone(),
        ready_controllers: 0.5,
    });
    let mut group = c.benchmark_group("ops");
    for path in ["/metrics", "/readyz"] {
        group.bench_function(path, |b| {
            b.to_async(&rt).iter(|| async {
                let request = Request::get(path).body(Body::empty()).expect("request");
                let response = router.clone().oneshot(request).await.expect("answer");
                axum::body::to_bytes(response.into_body(), 1 << 20)
                    .await
                    .expect("body")
            })
        });
    }
    group.finish();
    drop(estate);
}

criterion_group!(benches, scrape);
criterion_main!(benches);
