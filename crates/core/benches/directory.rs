//! People search in the published directory, at an estate's scale: 250,000 persons, each with
//! a card pass, in 100,000 households (and 50,000 persons in 20,000 households). Prints the
//! time to build the directory, to make a new version (a clone, once per batch of changes),
//! and the latency percentiles of searches by surname, by full name, by the last four phone
//! digits, by household, by card and by pass number.
//!
//! `cargo bench -p gatehouse-core --bench directory` (target: p99 <= 50 ms at 250,000)

use gatehouse_core::CardNumber;
use gatehouse_core::directory::Directory;
use gatehouse_core::estate::{EstateData, Household, Pass, Person, Role};
use rand::{Rng, SeedableRng};
use std::hint::black_box;
use std::time::{Duration, Instant};

#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

const SURNAMES: &str = "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘于蒋蔡余杜叶程苏魏吕丁任沈姚卢姜崔钟谭陆汪范金石廖贾夏韦付方白邹孟熊秦邱江尹薛闫段雷侯龙史陶黎贺顾毛郝龚邵万钱严覃武戴莫孔向汤";
const GIVEN: &str = "伟芳娜秀英敏静丽强磊军洋勇艳杰娟涛明超秀兰霞平刚桂英华建国玉兰红梅志强文斌海燕春雷晓东立新凤英德华建华秀珍国华学军";

fn estate(people: u32, households: u32, rng: &mut rand_chacha::ChaCha8Rng) -> EstateData {
    let surnames: Vec<char> = SURNAMES.chars().collect();
    let given: Vec<char> = GIVEN.chars().collect();
    let mut data = EstateData::default();
    for h in 0..households {
        data.households.push(Household {
            id: format!("{}-{}-{}", h / 400 + 1, h / 100 % 4 + 1, 101 + h % 100),
            zone: format!("bldg-{}", h / 400 + 1),
            tenure: Default::default(),
        });
    }
    for i in 0..people {
        let mut name = String::new();
        name.push(surnames[rng.random_range(0..surnames.len())]);
        for _ in 0..rng.random_range(1..=2) {
            name.push(given[rng.random_range(0..given.len())]);
        }
        let id = format!("R-{i:06}");
        let household = data.households[(i % households) as usize].id.clone();
        data.people.push(Person::new(
            &id,
            &name,
            &format!("13{:09}", rng.random_range(0..1_000_000_000u32)),
            Some(&household),
            Role::Resident,
        ));
        data.passes.push(Pass::card(
            &format!("P-{i:06}"),
            CardNumber::from_u32(0x1000_0000 + i),
            &id,
        ));
    }
    data
}

/// Makes one search text of a kind from the estate.
type Query<'a> = Box<dyn Fn(&mut rand_chacha::ChaCha8Rng) -> String + 'a>;

fn percentile(sorted: &[Duration], p: f64) -> Duration {
    sorted[((sorted.len() as f64 - 1.0) * p).round() as usize]
}

fn run(people: u32, households: u32) {
    let mut rng = rand_chacha::ChaCha8Rng::seed_from_u64(7);
    let data = estate(people, households, &mut rng);
    let shared = gatehouse_core::estate::SharedEstate::from(data.clone());
    let started = Instant::now();
    let directory = Directory::new(&shared, std::iter::empty());
    let built = started.elapsed();
    let started = Instant::now();
    let copy = black_box(directory.clone());
    let cloned = started.elapsed();
    drop(copy);
    println!(
        "{people} persons, {households} households: build {:.0} ms, new version (clone) {:.1} ms",
        built.as_secs_f64() * 1e3,
        cloned.as_secs_f64() * 1e3
    );
    let kinds: [(&str, Query<'_>); 6] = [
        (
            "surname",
            Box::new(|r| {
                let p = &data.people[r.random_range(0..data.people.len())];
                p.name.chars().next().unwrap().to_string()
            }),
        ),
        (
            "full name",
            Box::new(|r| {
                data.people[r.random_range(0..data.people.len())]
                    .name
                    .clone()
            }),
        ),
        (
            "phone last 4",
            Box::new(|r| {
                let p = &data.people[r.random_range(0..data.people.len())];
                p.phone[7..].to_string()
            }),
        ),
        (
            "household",
            Box::new(|r| {
                data.households[r.random_range(0..data.households.len())]
                    .id
                    .clone()
            }),
        ),
        (
            "card",
            Box::new(|r| {
                let p = &data.passes[r.random_range(0..data.passes.len())];
                p.card.as_ref().unwrap().to_lowercase()
            }),
        ),
        (
            "pass",
            Box::new(|r| data.passes[r.random_range(0..data.passes.len())].id.clone()),
        ),
    ];
    let mut all = Vec::new();
    for (kind, query) in &kinds {
        let mut times = Vec::with_capacity(500);
        let mut found = 0;
        for _ in 0..500 {
            let q = query(&mut rng);
            let started = Instant::now();
            found += black_box(directory.search(&q, 100)).len();
            times.push(started.elapsed());
        }
        times.sort();
        println!(
            "  {kind:<13} p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms  ({:.1} found per search)",
            percentile(&times, 0.5).as_secs_f64() * 1e3,
            percentile(&times, 0.99).as_secs_f64() * 1e3,
            times.last().unwrap().as_secs_f64() * 1e3,
            found as f64 / 500.0
        );
        all.extend(times);
    }
    all.sort();
    println!(
        "  all kinds     p50 {:>7.3} ms  p99 {:>7.3} ms  max {:>7.3} ms",
        percentile(&all, 0.5).as_secs_f64() * 1e3,
        percentile(&all, 0.99).as_secs_f64() * 1e3,
        all.last().unwrap().as_secs_f64() * 1e3
    );
}

fn main() {
    run(50_000, 20_000);
    run(250_000, 100_000);
}
