//! Helpers of the workspace tests that are not tests themselves: a throwaway `redis-server`
//! ([`redis_server`]) and one replica of an application as its own process ([`replica`]), used
//! by the `replicas_*` tests and the `replicas` benchmark.

pub mod redis_server;
pub mod replica;
