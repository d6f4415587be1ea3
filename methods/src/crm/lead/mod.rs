//! `crm.lead.*`: leads.

pub mod list;
