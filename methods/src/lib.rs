//! # b24: typed Bitrix24 REST for Rust
//!
//! One dependency gives you the client ([`Client`]), the declared methods (one module per scope,
//! e.g. [`imopenlines`]), typed results and typed errors, and the macros to declare any further
//! method ([`b24_method`], [`b24_object`]).
//!
//! ```no_run
//! # async fn demo() -> Result<(), Box<dyn std::error::Error>> {
//! use b24::imopenlines;
//!
//! let client = b24::Client::from_webhook("https://example.bitrix24.com/rest/1/abc123/")?;
//! let started: bool = imopenlines::session_start(&client, 2043).await?;
//! # Ok(()) }
//! ```

#![cfg_attr(docsrs, feature(doc_cfg))]

// Lets the macros name this crate `::b24` from inside it, its tests and examples alike.
extern crate self as b24;

pub use b24_macros::{b24_method, b24_object};
pub use b24_runtime::*;

pub mod crm;
pub mod imopenlines;
