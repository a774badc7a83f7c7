//! Chinese personal names and fake mobile numbers for the sample residents.
//!
//! The phone numbers come from blocks like `1390000xxxx` that read as obviously made up, so
//! the sample data cannot be mistaken for real people.

use rand::Rng;
use rand::seq::IndexedRandom;
use std::collections::HashSet;

/// Common surnames, weighted roughly by how often they occur (the first ones more often).
const SURNAMES: &[&str] = &[
    "王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭",
    "何", "高", "林", "罗", "郑", "梁", "谢", "宋", "唐", "许", "韩", "冯", "邓", "曹", "彭", "曾",
    "肖", "田", "董", "袁", "潘", "于", "蒋", "蔡", "余", "杜", "叶", "程", "苏", "魏", "吕", "丁",
    "任", "沈", "姚", "卢", "姜", "崔", "钟", "谭", "陆", "汪", "范", "金", "石", "廖", "贾", "夏",
];

/// Characters of given names.
const GIVEN: &[&str] = &[
    "伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明",
    "超", "秀", "霞", "平", "刚", "桂", "英", "华", "玉", "兰", "建", "国", "文", "辉", "红", "春",
    "晓", "志", "海", "云", "梅", "琳", "婷", "雪", "宇", "浩", "欣", "佳", "嘉", "俊", "鹏", "凤",
    "卫", "东", "宏", "德", "荣", "淑", "珍", "成", "林", "新", "晨", "悦", "子", "涵", "瑞", "萱",
];

/// Blocks of fake mobile numbers: each prefix is followed by four random digits.
const PHONE_BLOCKS: &[&str] = &["1390000", "1380000", "1370000", "1860000"];

/// A surname, the common ones more often.
pub fn surname(rng: &mut impl Rng) -> &'static str {
    // Squaring a uniform draw favours the front of the list.
    let u: f64 = rng.random();
    SURNAMES[((u * u) * SURNAMES.len() as f64) as usize]
}

/// A full name with the given surname and one or two given-name characters.
pub fn name_with(rng: &mut impl Rng, surname: &str) -> String {
    let mut name = String::from(surname);
    let chars = if rng.random_bool(0.7) { 2 } else { 1 };
    for _ in 0..chars {
        name.push_str(GIVEN.choose(rng).expect("non-empty list"));
    }
    name
}

/// Hands out fake mobile numbers, each once.
#[derive(Default)]
pub struct Phones {
    used: HashSet<String>,
}

impl Phones {
    pub fn next(&mut self, rng: &mut impl Rng) -> String {
        loop {
            let block = PHONE_BLOCKS.choose(rng).expect("non-empty list");
            let phone = format!("{block}{:04}", rng.random_range(0..10_000));
            if self.used.insert(phone.clone()) {
                return phone;
            }
        }
    }
}

/// Hands out card numbers (8 upper-case hex digits, as the reader-controller reports them),
/// each once.
#[derive(Default)]
pub struct Cards {
    used: HashSet<u32>,
}

impl Cards {
    pub fn next(&mut self, rng: &mut impl Rng) -> String {
        loop {
            let card: u32 = rng.random_range(0x0100_0000..=u32::MAX);
            if self.used.insert(card) {
                return format!("{card:08X}");
            }
        }
    }
}
