-- wrk script for bench/beacon.py: send requests as fast as the server answers
-- until the quiet point (the first script argument, in seconds after the
-- thread starts), then send nothing more. Run with -d longer than the quiet
-- point, so that when wrk stops every request it sent has been answered and
-- counted: the rows stored then match wrk's count exactly, with no request cut
-- off in flight.

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

local quiet_at

function init(args)
   quiet_at = now() + tonumber(args[1])
end

function delay()
   if now() >= quiet_at then
      return 3600000
   end
   return 0
end
