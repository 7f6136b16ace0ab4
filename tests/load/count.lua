-- Each wrk thread has one connection and stops after exactly LAMBDACTR_PER_THREAD
-- answers, so no request is left in flight: every request sent is answered and counted.
-- wrk itself runs for its whole --duration: each thread leaves a file in
-- LAMBDACTR_DONE_DIR when it is done, and the test then stops wrk with SIGINT.
local limit = tonumber(os.getenv("LAMBDACTR_PER_THREAD"))
local done_dir = os.getenv("LAMBDACTR_DONE_DIR")
local threads = {}

function setup(thread)
  thread:set("id", #threads + 1)
  table.insert(threads, thread)
end

function init(args)
  ok = 0
  bad = 0
  server_errors = 0
end

function response(status, headers, body)
  if status >= 200 and status < 300 then
    ok = ok + 1
  else
    bad = bad + 1
  end
  if status >= 500 then
    server_errors = server_errors + 1
  end
  if ok + bad == limit then
    wrk.thread:stop()
    local marker = io.open(done_dir .. "/" .. id, "w")
    marker:close()
  end
end

function done(summary, latency, requests)
  local o, b, s = 0, 0, 0
  for _, thread in ipairs(threads) do
    o = o + thread:get("ok")
    b = b + thread:get("bad")
    s = s + thread:get("server_errors")
  end
  io.write(string.format("LAMBDACTR ok=%d bad=%d server_errors=%d\n", o, b, s))
end
