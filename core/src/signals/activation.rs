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
use crate::time::EventTime;

/// The `k` smallest user-message times seen, ascending (`k` = `activation_messages`).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct EarliestMessages(Vec<EventTime>);

impl EarliestMessages {
    /// Takes in one user message. Allocates once, on the user's first message.
    pub(crate) fn record(&mut self, ts: EventTime, k: u32) {
        let k = k as usize;
        if self.0.len() == k && self.0.last().is_none_or(|&largest| ts >= largest) {
            return;
        }
        if self.0.capacity() == 0 {
            self.0.reserve_exact(k);
        }
        // After the equal times: equal timestamps count separately, and this keeps the
        // vector the same whatever order they came in.
        let at = self.0.partition_point(|&t| t <= ts);
        self.0.insert(at, ts);
        self.0.truncate(k);
    }

    /// `activated_at`: the `k`-th smallest time, once there are `k` messages.
    pub(crate) fn activated_at(&self, k: u32) -> Option<EventTime> {
        self.0.get((k as usize).checked_sub(1)?).copied()
    }

    pub(crate) fn heap_bytes(&self) -> usize {
        self.0.capacity() * size_of::<EventTime>()
    }

    pub(crate) fn encode(&self, base: EventTime, w: &mut Writer) {
        w.varint(self.0.len() as u128);
        for &ts in &self.0 {
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
        Ok(EarliestMessages(times))
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
