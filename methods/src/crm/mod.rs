//! Scope `crm`: only what b24's paging needs so far, `crm.lead.list`.
//!
//! The CRM methods' pages are not among the docs this project builds from yet; the declaration
//! follows the long-stable shape of `crm.*.list` (`select`, `filter`, `order`, `start`; rows with
//! upper-case fields, ids as strings; `next` and `total`).

pub mod lead;

pub use lead::list::{lead_list, Lead, LeadList};
