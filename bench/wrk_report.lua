-- wrk script for bench/api_load.py: cycles through the paths in the file given after "--" (one
-- per line) and prints one JSON line with the run's figures (latencies in microseconds).
-- After the file: the index to start from (0 by default) and the number of wrk threads; thread k
-- of n starts (k - 1) / n of the list further on, so the threads do not ask the same path at once.
local paths = {}
local counter = 0
local threads = 0

setup = function(thread)
    threads = threads + 1
    thread:set("thread_number", threads)
end

init = function(args)
    for line in io.lines(args[1]) do
        if line ~= "" then paths[#paths + 1] = line end
    end
    local start = tonumber(args[2] or "0")
    local of = tonumber(args[3] or "1")
    counter = (start + math.floor((thread_number - 1) * #paths / of)) % #paths
end

request = function()
    counter = counter % #paths + 1
    return wrk.format("GET", paths[counter])
end

done = function(summary, latency, requests)
    local errors = summary.errors
    io.write(string.format(
        '{"requests": %d, "duration_us": %d, "non_2xx_3xx": %d, "socket_errors": %d, '
            .. '"p50_us": %d, "p95_us": %d, "p99_us": %d, "max_us": %d}\n',
        summary.requests, summary.duration, errors.status,
        errors.connect + errors.read + errors.write + errors.timeout,
        latency:percentile(50), latency:percentile(95), latency:percentile(99), latency.max))
end
