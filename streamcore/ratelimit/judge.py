"""Judging one network range: the Lua script that adds a process's counts to the range's
counters in Redis, judges them and bans the range, all in one atomic call on Redis' clock.

Why one script: several processes flush the same range concurrently, and "count, judge, ban,
escalate" must not interleave (two processes must not both see the threshold crossed and
count two offences). Why Redis' clock (``TIME``): every process then agrees on which window a
count falls in.

Windows: ``window_s`` long, aligned on Redis' clock. A range's hash holds the current window's
requests and errors, the previous window's, and its usual. What is judged is the sliding
estimate ``current + previous * (share of the previous window still inside window_s)``
(Cloudflare's two counters), so an attack cannot hide by straddling a window boundary. When a
window closes its request count is folded into the usual, an exponential moving average (span
``history_windows``; empty windows count as zero), unless the range was cooling down.

A trip: offences INCR (kept ``offence_memory_s``), cool-down
``min(max_cooldown_s, cooldown_s * cooldown_growth ^ (offences - 1))``, the ban hash written
with that TTL, the bans index and the trips log updated, and the evidence reset (the window's
counts and account digests), so that the same requests never trip twice. A range already
cooling down is not judged: its ban is neither renewed nor extended.

Returns ``[state, reason, offences, now_ms, until_ms, factor, requests, errors, accounts]``:
state 0 fine, 1 tripped (a new ban), 2 cooling down already; numbers as strings.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from streamcore.ratelimit import keys
from streamcore.ratelimit.config import AbuseSettings

RECENT_TRIPS = 50

JUDGE = """
local win, acc, pacc = KEYS[1], KEYS[2], KEYS[3]
local ban, off, index, trips = KEYS[4], KEYS[5], KEYS[6], KEYS[7]
local range = ARGV[1]
local window = tonumber(ARGV[4])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local idx = math.floor(now / window)
local banned = redis.call('EXISTS', ban) == 1
local alpha = 2 / (tonumber(ARGV[15]) + 1)
local s = redis.call('HMGET', win, 'idx', 'req', 'err', 'preq', 'perr', 'usual', 'seen')
local widx = tonumber(s[1])
local req, err = tonumber(s[2]) or 0, tonumber(s[3]) or 0
local preq, perr = tonumber(s[4]) or 0, tonumber(s[5]) or 0
local usual, seen = tonumber(s[6]) or 0, tonumber(s[7]) or 0
if widx ~= idx then
  if widx then
    local gap = math.max(0, idx - widx - 1)
    if not banned then
      if seen == 0 then usual = req else usual = alpha * req + (1 - alpha) * usual end
      usual = usual * (1 - alpha) ^ math.min(gap, 100000)
      seen = seen + 1 + gap
    end
    if gap == 0 then
      preq, perr = req, err
      if redis.call('EXISTS', acc) == 1 then redis.call('RENAME', acc, pacc)
      else redis.call('DEL', pacc) end
    else
      preq, perr = 0, 0
      redis.call('DEL', acc, pacc)
    end
  end
  req, err = 0, 0
end
req = req + tonumber(ARGV[2])
err = err + tonumber(ARGV[3])
if #ARGV > 15 then
  redis.call('PFADD', acc, unpack(ARGV, 16))
end
redis.call('PEXPIRE', acc, 2 * window)
redis.call('PEXPIRE', pacc, 2 * window)
redis.call('HSET', win, 'idx', idx, 'req', req, 'err', err, 'preq', preq, 'perr', perr,
           'usual', tostring(usual), 'seen', seen)
redis.call('PEXPIRE', win, math.ceil(tonumber(ARGV[15]) * window))
local w = 1 - (now - idx * window) / window
local est_req = req + preq * w
local est_err = err + perr * w
local est_acc = redis.call('PFCOUNT', acc) + redis.call('PFCOUNT', pacc) * w
local numbers = {string.format('%.1f', est_req), string.format('%.1f', est_err),
                 string.format('%.1f', est_acc)}
if banned then
  return {2, '', 0, now, 0, '', numbers[1], numbers[2], numbers[3]}
end
local reason = ''
local rate_limit = tonumber(ARGV[9])
if seen > 0 then rate_limit = math.max(rate_limit, tonumber(ARGV[8]) * usual) end
if est_acc >= tonumber(ARGV[5]) then
  reason = 'failed_logins'
elseif est_req >= tonumber(ARGV[7]) and est_err / est_req > tonumber(ARGV[6]) then
  reason = 'error_ratio'
elseif est_req > rate_limit then
  reason = 'request_rate'
end
if reason == '' then
  return {0, '', 0, now, 0, '', numbers[1], numbers[2], numbers[3]}
end
local offences = redis.call('INCR', off)
redis.call('PEXPIRE', off, math.ceil(tonumber(ARGV[14])))
local cooldown = math.min(tonumber(ARGV[13]),
                          tonumber(ARGV[11]) * tonumber(ARGV[12]) ^ (offences - 1))
cooldown = math.max(1, math.ceil(cooldown))
local ends = now + cooldown
redis.call('HSET', ban, 'factor', ARGV[10], 'reason', reason, 'offences', offences,
           'since', now, 'until', ends, 'requests', numbers[1], 'errors', numbers[2],
           'accounts', numbers[3])
redis.call('PEXPIRE', ban, cooldown)
redis.call('ZADD', index, ends, range)
redis.call('ZREMRANGEBYSCORE', index, '-inf', now)
redis.call('LPUSH', trips, cjson.encode({range = range, reason = reason, offences = offences,
  at = now, ['until'] = ends, requests = est_req, errors = est_err, accounts = est_acc}))
redis.call('LTRIM', trips, 0, RECENT - 1)
redis.call('HSET', win, 'req', 0, 'err', 0, 'preq', 0, 'perr', 0)
redis.call('DEL', acc, pacc)
return {1, reason, offences, now, ends, ARGV[10], numbers[1], numbers[2], numbers[3]}
""".replace("RECENT", str(RECENT_TRIPS))


class State(enum.IntEnum):
    FINE = 0
    TRIPPED = 1
    # Cooling down already: not judged.
    COOLING = 2


@dataclass(frozen=True)
class Judgement:
    """What the script said about one range."""

    state: State
    reason: str
    offences: int
    now_ms: int
    until_ms: int
    factor: float
    requests: float
    errors: float
    accounts: float


def script_keys(range_: str) -> list[str]:
    return [
        keys.abuse(range_, keys.ABUSE_WINDOW),
        keys.abuse(range_, keys.ABUSE_ACCOUNTS),
        keys.abuse(range_, keys.ABUSE_PREVIOUS_ACCOUNTS),
        keys.ban(range_),
        keys.offences(range_),
        keys.BANS_INDEX,
        keys.TRIPS_LOG,
    ]


def script_args(
    range_: str, requests: int, errors: int, accounts: set[str], settings: AbuseSettings
) -> list[str | int | float]:
    s = settings
    return [
        range_, requests, errors, round(s.window_s * 1000), s.failed_login_accounts,
        s.error_ratio, s.min_requests, s.rate_factor, s.min_rate, repr(s.penalty_factor),
        round(s.cooldown_s * 1000), s.cooldown_growth, round(s.max_cooldown_s * 1000),
        round(s.offence_memory_s * 1000), s.history_windows, *sorted(accounts),
    ]  # fmt: skip


def _text(value: bytes | str | int) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def judgement(reply: list[bytes | str | int]) -> Judgement:
    state, reason, offences, now, until, factor, requests, errors, accounts = map(_text, reply)
    return Judgement(
        state=State(int(state)), reason=reason, offences=int(offences), now_ms=int(now),
        until_ms=int(until), factor=float(factor or 0), requests=float(requests),
        errors=float(errors), accounts=float(accounts),
    )  # fmt: skip
