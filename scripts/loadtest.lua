-- wrk script for scripts/loadtest.sh. Arguments after "--" are the targets,
-- each "PATH ACCEPT-ENCODING"; every connection takes the next one in turn,
-- threads starting at different ones, so the mix is even.
--
-- wrk counts only responses with status > 399 as errors, and a response()
-- function would make it copy each 10 MB body into Lua, so statuses are
-- counted from the server's request log instead (see loadtest.sh).
--
-- At the end it prints one line for the shell to read:
--   WRK requests bytes duration_us connect read write timeout status p50_us p90_us p99_us max_us

local requests = {}
local counter = 0
local threads = 0

function setup(thread)
  thread:set("offset", threads)
  threads = threads + 1
end

function init(args)
  for _, arg in ipairs(args) do
    local path, accept = arg:match("^(%S+) (.+)$")
    requests[#requests + 1] = wrk.format("GET", path, { ["Accept-Encoding"] = accept })
  end
  counter = offset or 0
end

function request()
  counter = counter + 1
  return requests[counter % #requests + 1]
end

function done(summary, latency, _)
  local e = summary.errors
  io.write(string.format("WRK %d %d %d %d %d %d %d %d %d %d %d %d\n",
    summary.requests, summary.bytes, summary.duration,
    e.connect, e.read, e.write, e.timeout, e.status,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max))
end
