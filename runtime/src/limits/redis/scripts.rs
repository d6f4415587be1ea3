//! The Lua scripts of the Redis limits. Each reads the Redis server's clock (`TIME`, in ms with
//! a fraction) and changes one portal's keys atomically. Numbers are stored as strings (Lua would
//! truncate floats returned to Redis).

use std::time::Duration;

use ::redis::Script;

/// Takes a place in the bucket: returns `{wait_us, level_milli, awaiting, blocked}`; `wait_us` 0
/// means the place is taken. With `KEYS[2]` (the operating-time blocks) and `ARGV[5]` (a method),
/// a method another process saw blocked takes no place: `blocked` is 1 and `wait_us` the time
/// left.
pub(super) const ACQUIRE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
if KEYS[2] then
  local until_ms = tonumber(redis.call('HGET', KEYS[2], ARGV[5]) or '0') or 0
  if until_ms ~= until_ms then until_ms = 0 end
  if until_ms > now + 600000 then until_ms = now + 600000 end
  if until_ms > now then
    return {math.ceil((until_ms - now) * 1000), 0, 0, 1}
  end
end
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / 1000
local headroom = tonumber(ARGV[3])
local lag = tonumber(ARGV[4])
local s = redis.call('HMGET', KEYS[1], 'level', 'at', 'awaiting')
local level = tonumber(s[1]) or 0
local at = tonumber(s[2]) or now
local awaiting = s[3] == '1'
-- What no script wrote (NaN, a start of the drain further than the lag ahead, a level above the
-- burst: a tampered key, or a failover to a server whose clock is behind) would stop the drain.
if at ~= at or at > now + lag then at = now end
if level ~= level or level < 0 then level = 0 end
level = math.min(level, math.max(burst, 1))
if now > at then
  level = math.max(0, level - (now - at) * rate)
  at = now
end
if level <= 0 then
  at = now + lag
  awaiting = true
end
local capacity = math.max(1, burst - headroom)
local wait = 0
if level + 1 <= capacity or rate <= 0 then
  level = level + 1
else
  wait = math.max(0, at - now) + (level + 1 - capacity) / rate
end
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(at), 'awaiting', awaiting and '1' or '0')
local ttl = lag + 60000
if rate > 0 then ttl = ttl + math.min(level / rate, 86400000) else ttl = 86400000 end
redis.call('PEXPIRE', KEYS[1], math.ceil(ttl))
return {math.ceil(wait * 1000), math.floor(level * 1000), awaiting and 1 or 0, 0}
"#;

/// An answer came back: the drain of the busy period starts now if it was waiting for one.
const ANSWERED: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local s = redis.call('HMGET', KEYS[1], 'at', 'awaiting')
if s[2] == '1' then
  local at = tonumber(s[1]) or now
  if at > now then at = now end
  redis.call('HSET', KEYS[1], 'at', tostring(at), 'awaiting', '0')
end
return 1
"#;

/// The portal said the bucket is full: drain up to now, then fill it to `burst`.
const SATURATE: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local burst = tonumber(ARGV[1])
local rate = tonumber(ARGV[2]) / 1000
local s = redis.call('HMGET', KEYS[1], 'level', 'at')
local level = tonumber(s[1]) or 0
local at = tonumber(s[2]) or now
if at ~= at then at = now end
if level ~= level or level < 0 then level = 0 end
if now > at then
  level = math.max(0, level - (now - at) * rate)
  at = now
end
level = math.max(level, burst)
redis.call('HSET', KEYS[1], 'level', tostring(level), 'at', tostring(at), 'awaiting', '0')
redis.call('PEXPIRE', KEYS[1], 86400000)
return 1
"#;

/// Holds `ARGV[1]` (a method) back for `ARGV[2]` ms from now (keeping a later block).
const BLOCK: &str = r#"
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local until_ms = now + tonumber(ARGV[2])
local old = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0') or 0
if until_ms > old then redis.call('HSET', KEYS[1], ARGV[1], tostring(until_ms)) end
local ttl = redis.call('PTTL', KEYS[1])
local want = math.ceil(until_ms - now) + 1000
if ttl < want then redis.call('PEXPIRE', KEYS[1], want) end
return 1
"#;

/// How long `ARGV[1]` (a method) is still held back, in ms (0: not held back).
const BLOCKED_FOR: &str = r#"
local v = redis.call('HGET', KEYS[1], ARGV[1])
if not v then return 0 end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + tonumber(t[2]) / 1000
local left = (tonumber(v) or 0) - now
if left ~= left or left <= 0 then redis.call('HDEL', KEYS[1], ARGV[1]) return 0 end
return math.ceil(math.min(left, 600000))
"#;

/// The longest a method is held back on the word of another process (the portal's window).
pub(super) const MAX_BLOCK: Duration = Duration::from_secs(600);

pub(super) struct Scripts {
    pub(super) acquire: Script,
    pub(super) answered: Script,
    pub(super) saturate: Script,
    pub(super) block: Script,
    pub(super) blocked_for: Script,
}

impl Scripts {
    pub(super) fn new() -> Self {
        Scripts {
            acquire: Script::new(ACQUIRE),
            answered: Script::new(ANSWERED),
            saturate: Script::new(SATURATE),
            block: Script::new(BLOCK),
            blocked_for: Script::new(BLOCKED_FOR),
        }
    }
}
