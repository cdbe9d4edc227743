//! Value: what the user is worth and what they care about (docs/signals.md, "Value").
//!
//! - [`rfm`]: recency, frequency, monetary scores and the R × F segment.
//! - [`top_categories`]: interests from decayed category weights.
//! - [`purchasing_power`]: the tier of the average item price.

pub(crate) mod purchasing_power;
pub(crate) mod rfm;
pub(crate) mod top_categories;
