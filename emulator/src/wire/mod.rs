//! The wire protocol: reading requests the way a PHP portal does and writing its answers.
//!
//! - [`php_query`]: `application/x-www-form-urlencoded` text → parameters, with PHP's rules;
//! - [`multipart`]: `multipart/form-data` bodies → parameters;
//! - [`envelope`]: the success and error bodies and the `time` block;
//! - [`php_json`]: PHP arrays as `json_encode` writes them (`[]` for empty maps);
//! - `request` (internal): route and parameters of an HTTP request.

pub mod envelope;
pub mod multipart;
pub mod php_json;
pub mod php_query;
pub(crate) mod request;
