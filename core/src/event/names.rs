//! The closed sets of the contract: event types and the enumerated props values.
//!
//! Each is an enum with one `as_str` for the wire and the database and a `parse` back, so a
//! name is spelled once, here, and a typo elsewhere is a compile error.

/// Implemented by every enum of this module; lets the decoder read any of them generically.
pub(crate) trait WireName: Sized + 'static {
    /// Every wire name, in declaration order, for "expected one of ..." messages.
    const NAMES: &'static [&'static str];
    /// The variant whose wire name is `name`, compared exactly (case-sensitively).
    fn parse(name: &str) -> Option<Self>;
}

/// Declares an enum whose variants map one-to-one onto wire names. Also used for the closed
/// sets of profile columns (`crate::signals`), so every wire name in the crate is declared the
/// same way.
macro_rules! wire_enum {
    (
        $(#[$meta:meta])*
        pub enum $name:ident { $($(#[$variant_meta:meta])* $variant:ident = $wire:literal,)+ }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum $name {
            $($(#[$variant_meta])* $variant,)+
        }

        impl $name {
            /// Every variant, in declaration order.
            pub const ALL: &'static [Self] = &[$(Self::$variant),+];

            /// Every wire name, in declaration order (`NAMES[i] == ALL[i].as_str()`).
            pub const NAMES: &'static [&'static str] = &[$($wire),+];

            /// The name on the wire and in the database.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $(Self::$variant => $wire,)+
                }
            }

            /// The variant named `name` on the wire (exact, case-sensitive), if any.
            pub fn parse(name: &str) -> Option<Self> {
                match name {
                    $($wire => Some(Self::$variant),)+
                    _ => None,
                }
            }
        }

        impl $crate::event::WireName for $name {
            const NAMES: &'static [&'static str] = Self::NAMES;

            fn parse(name: &str) -> Option<Self> {
                Self::parse(name)
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}
pub(crate) use wire_enum;

wire_enum! {
    /// The envelope's `type`: which props the event carries.
    pub enum EventType {
        PageView = "page_view",
        Search = "search",
        ChatMessage = "chat_message",
        Order = "order",
        Promotion = "promotion",
        Account = "account",
    }
}

wire_enum! {
    /// Who sent a chat message.
    pub enum Direction {
        /// Sent by the user to staff; counts towards activation.
        User = "user",
        /// Sent by staff to the user.
        Staff = "staff",
    }
}

wire_enum! {
    /// What happened to a promotion or coupon.
    pub enum PromotionAction {
        Issued = "issued",
        Claimed = "claimed",
        Redeemed = "redeemed",
        Expired = "expired",
    }
}

wire_enum! {
    /// An account or contact lifecycle event.
    pub enum AccountAction {
        Register = "register",
        Login = "login",
        /// The user added staff as a contact: the user's first contact.
        FriendAdded = "friend_added",
        /// The user deleted staff as a contact: hard churn.
        FriendDeleted = "friend_deleted",
        /// The user cancelled the account: hard churn.
        Cancel = "cancel",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Checks `parse(as_str(v)) == v` for every variant, that `NAMES` lists the same names in
    /// the same order, and that names are distinct and snake_case.
    fn round_trips<T: WireName + Copy + PartialEq + std::fmt::Debug>(
        all: &[T],
        as_str: fn(T) -> &'static str,
    ) {
        assert_eq!(all.len(), T::NAMES.len());
        for (&variant, &name) in all.iter().zip(T::NAMES) {
            assert_eq!(as_str(variant), name);
            assert_eq!(T::parse(name), Some(variant));
            assert!(
                name.bytes().all(|b| b.is_ascii_lowercase() || b == b'_'),
                "{name}"
            );
        }
        let mut names = T::NAMES.to_vec();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), T::NAMES.len());
    }

    #[test]
    fn event_type_names_round_trip() {
        round_trips(EventType::ALL, EventType::as_str);
        assert_eq!(
            EventType::NAMES,
            [
                "page_view",
                "search",
                "chat_message",
                "order",
                "promotion",
                "account"
            ]
        );
    }

    #[test]
    fn direction_names_round_trip() {
        round_trips(Direction::ALL, Direction::as_str);
        assert_eq!(Direction::NAMES, ["user", "staff"]);
    }

    #[test]
    fn promotion_action_names_round_trip() {
        round_trips(PromotionAction::ALL, PromotionAction::as_str);
        assert_eq!(
            PromotionAction::NAMES,
            ["issued", "claimed", "redeemed", "expired"]
        );
    }

    #[test]
    fn account_action_names_round_trip() {
        round_trips(AccountAction::ALL, AccountAction::as_str);
        assert_eq!(
            AccountAction::NAMES,
            [
                "register",
                "login",
                "friend_added",
                "friend_deleted",
                "cancel"
            ]
        );
    }

    #[test]
    fn parse_is_exact_and_case_sensitive() {
        assert_eq!(EventType::parse("Page_View"), None);
        assert_eq!(EventType::parse(" order"), None);
        assert_eq!(Direction::parse("sideways"), None);
        assert_eq!(EventType::Order.to_string(), "order");
    }
}
