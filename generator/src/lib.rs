//! Seeded synthetic behavioral events and the reference model that computes their profiles.
