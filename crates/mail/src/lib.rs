//! E-mail channel.
