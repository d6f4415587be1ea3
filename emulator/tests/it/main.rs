//! End-to-end tests of the emulator over real HTTP (one test binary, several modules).

#![recursion_limit = "256"]

mod batch;
mod common;
mod custom;
mod dialog;
mod documented;
mod faults;
mod history;
mod limits;
mod list;
mod oauth;
mod operator;
mod session;
mod wire;
