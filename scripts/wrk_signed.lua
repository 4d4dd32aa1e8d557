-- wrk script of scripts/bench_webhook.py: POST precomputed, signed Twilio webhook requests.
--
-- usage: wrk -t T -c C -d D -s scripts/wrk_signed.lua http://127.0.0.1:PORT -- FILE T
-- FILE has one request per line: "<X-Twilio-Signature>\t<urlencoded body>".
-- Thread k of T sends lines k, k+T, k+2T, ... so no MessageSid is sent twice by two
-- threads; a thread that runs out of lines starts again and counts a wrap (the Python
-- side treats any wrap as an invalid run, since a repeated MessageSid is a cheap duplicate).

local counter = 0
local threads = {}

function setup(thread)
  thread:set("tid", counter)
  counter = counter + 1
  table.insert(threads, thread)
end

function init(args)
  local path = args[1]
  local nthreads = tonumber(args[2])
  reqs = {}
  local i = 0
  for line in io.lines(path) do
    if i % nthreads == tid then
      local sig, body = line:match("^([^\t]*)\t(.*)$")
      reqs[#reqs + 1] = wrk.format("POST", "/twilio/messaging", {
        ["Content-Type"] = "application/x-www-form-urlencoded",
        ["X-Twilio-Signature"] = sig,
      }, body)
    end
    i = i + 1
  end
  idx = 0
  wraps = 0
end

function request()
  idx = idx + 1
  if idx > #reqs then
    idx = 1
    wraps = wraps + 1
  end
  return reqs[idx]
end

function done(summary, latency, requests)
  local wrapped = 0
  for _, thread in ipairs(threads) do
    wrapped = wrapped + (thread:get("wraps") or 0)
  end
  io.write(string.format(
    "WRKJSON {\"requests\": %d, \"duration_us\": %d, \"connect\": %d, \"read\": %d, \"write\": %d, \"status\": %d, \"timeout\": %d, \"p50_us\": %d, \"p90_us\": %d, \"p99_us\": %d, \"max_us\": %d, \"wraps\": %d}\n",
    summary.requests, summary.duration, summary.errors.connect, summary.errors.read,
    summary.errors.write, summary.errors.status, summary.errors.timeout,
    latency:percentile(50), latency:percentile(90), latency:percentile(99), latency.max, wrapped))
end
