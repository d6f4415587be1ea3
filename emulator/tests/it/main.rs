//! End-to-end tests of the emulator over real HTTP (one test binary, several modules).

#![recursion_limit = "256"]

mod common;
mod custom;
mod dialog;
mod history;
mod session;
mod wire;
