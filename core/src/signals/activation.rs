//! Activation: the user has talked to staff enough.
//!
//! docs/signals.md, "Activation":
//! - "`activated` = `messages_sent >= 3` (threshold `activation.messages`, default 3)."
//! - "`activated_at`: the 3rd smallest ts among the user's `direction = user` chat messages
//!   (equal timestamps count separately); NULL when not activated."
//!
//! The 3rd smallest time, whatever the arrival order, needs only the 3 smallest times seen:
//! a later-arriving earlier message pushes the largest of them out. So the state keeps
//! `activation_messages` timestamps, never the message history.

use crate::state::codec::{invalid, Reader, StateDecodeError, Writer};
use crate::state::maybe_time::MaybeTime;
use crate::time::EventTime;

/// How many times are kept inline, in the state itself: the default `activation_messages`.
const INLINE: usize = 3;

/// The `k` smallest user-message times seen, ascending (`k` = `activation_messages`).
///
/// Up to three (the default `k`) are held inline, unset slots last, so that the common case
/// costs 24 bytes and no allocation; a larger `k` keeps them in a boxed slice instead.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum EarliestMessages {
    Inline([MaybeTime; INLINE]),
    Boxed(Box<[EventTime]>),
}

impl Default for EarliestMessages {
    fn default() -> Self {
        Self::NONE
    }
}

impl EarliestMessages {
    /// No messages.
    pub(crate) const NONE: EarliestMessages = EarliestMessages::Inline([MaybeTime::NONE; INLINE]);

    /// Takes in one user message. Allocates only when `k` is above three, and then only when
    /// the message is among the `k` earliest.
    pub(crate) fn record(&mut self, ts: EventTime, k: u32) {
        let k = k as usize;
        match self {
            EarliestMessages::Inline(times) if k <= INLINE => {
                let len = times.iter().take_while(|t| t.is_some()).count();
                let largest = len.checked_sub(1).and_then(|last| times[last].get());
                if len == k && largest.is_none_or(|largest| ts >= largest) {
                    return;
                }
                // After the equal times: equal timestamps count separately, and this keeps
                // the times the same whatever order they came in.
                let at = times[..len].partition_point(|t| t.get().is_some_and(|t| t <= ts));
                let mut merged = [MaybeTime::NONE; INLINE + 1];
                merged[..at].copy_from_slice(&times[..at]);
                merged[at] = Some(ts).into();
                merged[at + 1..=len].copy_from_slice(&times[at..len]);
                for (slot, (i, time)) in times.iter_mut().zip(merged.into_iter().enumerate()) {
                    *slot = if i < k { time } else { MaybeTime::NONE };
                }
            }
            _ => {
                let mut times = self.to_vec();
                if times.len() == k && times.last().is_none_or(|&largest| ts >= largest) {
                    return;
                }
                let at = times.partition_point(|&t| t <= ts);
                times.insert(at, ts);
                times.truncate(k);
                *self = Self::from_sorted(times);
            }
        }
    }

    /// The times held, ascending.
    fn to_vec(&self) -> Vec<EventTime> {
        match self {
            EarliestMessages::Inline(times) => times.iter().map_while(|t| t.get()).collect(),
            EarliestMessages::Boxed(times) => times.to_vec(),
        }
    }

    /// Inline if they fit.
    fn from_sorted(times: Vec<EventTime>) -> Self {
        if times.len() <= INLINE {
            let mut inline = [MaybeTime::NONE; INLINE];
            for (slot, ts) in inline.iter_mut().zip(times) {
                *slot = Some(ts).into();
            }
            EarliestMessages::Inline(inline)
        } else {
            EarliestMessages::Boxed(times.into_boxed_slice())
        }
    }

    fn get(&self, at: usize) -> Option<EventTime> {
        match self {
            EarliestMessages::Inline(times) => times.get(at).and_then(|t| t.get()),
            EarliestMessages::Boxed(times) => times.get(at).copied(),
        }
    }

    /// `activated_at`: the `k`-th smallest time, once there are `k` messages.
    pub(crate) fn activated_at(&self, k: u32) -> Option<EventTime> {
        self.get((k as usize).checked_sub(1)?)
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        match self {
            EarliestMessages::Inline(_) => 0,
            EarliestMessages::Boxed(times) => size_of_val::<[EventTime]>(times),
        }
    }

    pub(crate) fn encode(&self, base: EventTime, w: &mut Writer) {
        let times = self.to_vec();
        w.varint(times.len() as u128);
        for ts in times {
            w.after(base, ts);
        }
    }

    pub(crate) fn decode(base: EventTime, r: &mut Reader) -> Result<Self, StateDecodeError> {
        let count = r.count("activation count")?;
        let mut times = Vec::with_capacity(count);
        for _ in 0..count {
            times.push(r.after(base, "activation time")?);
        }
        if !times.is_sorted() {
            return Err(invalid("activation time", "not ascending"));
        }
        Ok(Self::from_sorted(times))
    }
}

#[cfg(test)]
mod tests {
    use crate::event::Direction::{Staff, User};
    use crate::testing::{at, chat, profile};

    #[test]
    fn third_message_out_of_order_sets_activated_at() {
        // Arrival order 3rd, 1st, 4th, 2nd: the 3rd smallest is the one at 12:00.
        let events = [
            chat(at(10, 12), User, None),
            chat(at(10, 9), User, None),
            chat(at(10, 15), User, None),
            chat(at(10, 10), User, None),
        ];
        let p = profile(&events, at(11, 0));
        assert!(p.activated);
        assert_eq!(p.activated_at, Some(at(10, 12).millis() / 1000));
        assert_eq!(p.messages_sent, 4);
    }

    #[test]
    fn an_earlier_message_arriving_last_moves_activated_at_back() {
        let mut events = vec![
            chat(at(10, 9), User, None),
            chat(at(10, 10), User, None),
            chat(at(10, 11), User, None),
        ];
        assert_eq!(
            profile(&events, at(11, 0)).activated_at,
            Some(at(10, 11).millis() / 1000)
        );
        events.push(chat(at(9, 23), User, None));
        assert_eq!(
            profile(&events, at(11, 0)).activated_at,
            Some(at(10, 10).millis() / 1000)
        );
    }

    #[test]
    fn two_messages_and_staff_replies_do_not_activate() {
        let events = [
            chat(at(10, 9), User, None),
            chat(at(10, 10), Staff, None),
            chat(at(10, 11), Staff, None),
            chat(at(10, 12), User, None),
        ];
        let p = profile(&events, at(11, 0));
        assert!(!p.activated);
        assert_eq!(p.activated_at, None);
    }

    #[test]
    fn equal_timestamps_count_separately() {
        let events = [
            chat(at(10, 9), User, None),
            chat(at(10, 9), User, None),
            chat(at(10, 9), User, None),
        ];
        let p = profile(&events, at(11, 0));
        assert!(p.activated);
        assert_eq!(p.activated_at, Some(at(10, 9).millis() / 1000));
    }
}
