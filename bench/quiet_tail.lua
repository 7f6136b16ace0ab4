-- wrk script for bench/beacon.py: send requests as fast as the server answers
-- until the quiet point (the first script argument, in seconds after the
-- thread starts), then send nothing more. Run with -d longer than the quiet
-- point, so that when wrk stops every request it sent has normally been
-- answered and counted, and the rows stored match wrk's count exactly. The
-- number of requests sent is printed at the end, so that one still in flight
-- when wrk stops (slower than the quiet tail) is known rather than guessed.

local ffi = require("ffi")
ffi.cdef([[
typedef struct { long tv_sec; long tv_nsec; } bench_timespec;
int clock_gettime(int clock_id, bench_timespec *tp);
]])
local CLOCK_MONOTONIC = 1
local now_ts = ffi.new("bench_timespec")

local function now()
   ffi.C.clock_gettime(CLOCK_MONOTONIC, now_ts)
   return tonumber(now_ts.tv_sec) + tonumber(now_ts.tv_nsec) / 1e9
end

local threads = {}

function setup(thread)
   table.insert(threads, thread)
end

local quiet_at

function init(args)
   quiet_at = now() + tonumber(args[1])
   sent = 0
end

-- wrk asks before each request it sends; a delay of 0 means one request sent.
function delay()
   if now() >= quiet_at then
      return 3600000
   end
   sent = sent + 1
   return 0
end

function done(summary, latency, requests)
   local total = 0
   for _, thread in ipairs(threads) do
      total = total + thread:get("sent")
   end
   io.write(string.format("bench: requests sent %d\n", total))
end
