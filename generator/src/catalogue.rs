//! The fixed vocabularies the simulation draws from: categories, search queries, pages, chat
//! lines and campaigns.
//!
//! Fixed lists keep event records compact (`&'static str`, a one-byte category) and put every
//! keyword of docs/signals.md into the data on purpose, including the awkward cases: upper
//! case ("SALE", "STOP"), a keyword inside a longer word ("wholesale", "stopped"), and staff
//! lines that contain opt-out words (which must not mark the user as marketing-averse).

use rand::Rng;
use serde::{Serialize, Serializer};

/// Product categories: a mix of Chinese and English names, so ranking ties by name exercise
/// byte-order comparison of UTF-8.
pub(crate) const CATEGORIES: [&str; 12] = [
    "数码", "beauty", "books", "服装", "home", "食品", "sports", "母婴", "toys", "家电", "pets",
    "travel",
];

/// Search queries per category, in the order of [`CATEGORIES`]: the first two are plain, the
/// last contains a promo word.
const QUERIES: [[&str; 3]; 12] = [
    ["蓝牙耳机", "phone case", "手机 优惠"],
    ["lipstick", "面霜", "beauty SALE"],
    ["科幻小说", "rust programming", "books deal"],
    ["羽绒服", "running shoes", "服装 折扣"],
    ["desk lamp", "收纳盒", "home Discount"],
    ["咖啡豆", "snacks", "零食 满减"],
    ["yoga mat", "跑步机", "sports coupon"],
    ["纸尿裤", "baby stroller", "奶粉 优惠券"],
    ["lego", "拼图", "toys 秒杀"],
    ["空气炸锅", "vacuum cleaner", "家电 以旧换新 优惠"],
    ["猫粮", "dog leash", "pet food wholesale"],
    ["机票", "hotel booking", "travel Deals"],
];

/// Queries that name no category (the search event then has no `category`).
pub(crate) const GENERIC_QUERIES: [&str; 3] = ["gift ideas", "新品推荐", "限时秒杀"];

/// Pages that show one category (`page_view` carries it).
pub(crate) const CATEGORY_PAGES: [&str; 2] = ["/item", "/category"];
/// Pages without a category.
pub(crate) const PLAIN_PAGES: [&str; 3] = ["/home", "/cart", "/orders"];
/// The promotion landing page: viewed with `is_promo = true`.
pub(crate) const PROMO_PAGE: &str = "/promo";

/// What users write to staff when they are not annoyed.
pub(crate) const USER_LINES: [&str; 7] = [
    "你好，请问什么时候发货？",
    "Is this still in stock?",
    "可以开发票吗",
    "这个有优惠吗",
    "What sizes do you have?",
    "收到了，谢谢",
    "Can I change my delivery address?",
];

/// What marketing-averse users write: each line contains one of the opt-out keywords.
pub(crate) const AVERSE_LINES: [&str; 8] = [
    "退订",
    "别发了，谢谢",
    "请不要再发广告了",
    "STOP",
    "Please unsubscribe me",
    "取消订阅",
    "天天发消息，太骚扰了",
    "I stopped reading these",
];

/// What staff write: replies and broadcasts. Some contain opt-out keywords, as marketing
/// messages do ("回复退订", "Reply STOP"); they come from staff, so they flag nobody.
pub(crate) const STAFF_LINES: [&str; 6] = [
    "您好，有什么可以帮您？",
    "Your order has shipped.",
    "新品上架，回复TD退订",
    "限时优惠券已发放，快来领取",
    "Weekend sale starts now. Reply STOP to opt out",
    "感谢您的支持！",
];

/// Campaign ids carried by promotions and promo orders.
pub(crate) const CAMPAIGNS: [&str; 5] = ["spring_sale", "618", "双十一", "new_user_gift", "flash"];

/// A product category, stored as an index into [`CATEGORIES`] to keep event records small.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Category(u8);

impl Category {
    /// Every category, in catalogue order.
    pub fn all() -> impl Iterator<Item = Category> {
        (0..CATEGORIES.len() as u8).map(Category)
    }

    /// A uniformly random category.
    pub fn any(rng: &mut impl Rng) -> Category {
        Category(rng.gen_range(0..CATEGORIES.len() as u8))
    }

    pub fn name(self) -> &'static str {
        CATEGORIES[usize::from(self.0)]
    }

    pub fn plain_queries(self) -> &'static [&'static str] {
        &QUERIES[usize::from(self.0)][..2]
    }

    pub fn promo_query(self) -> &'static str {
        QUERIES[usize::from(self.0)][2]
    }
}

impl Serialize for Category {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(self.name())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::reference::{contains_any, OPT_OUT_KEYWORDS as OPT_OUT, PROMO_WORDS as PROMO};

    #[test]
    fn averse_lines_all_contain_an_opt_out_keyword_and_plain_lines_none() {
        assert!(AVERSE_LINES.iter().all(|l| contains_any(l, &OPT_OUT)));
        assert!(!USER_LINES.iter().any(|l| contains_any(l, &OPT_OUT)));
    }

    #[test]
    fn promo_queries_contain_a_promo_word_and_plain_queries_none() {
        for category in Category::all() {
            assert!(
                contains_any(category.promo_query(), &PROMO),
                "{}",
                category.name()
            );
            assert!(!category
                .plain_queries()
                .iter()
                .any(|q| contains_any(q, &PROMO)));
        }
    }

    #[test]
    fn category_names_are_unique() {
        let mut names = CATEGORIES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), CATEGORIES.len());
    }
}
