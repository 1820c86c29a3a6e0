-- wrk script for bench/api_load.py: cycles through the paths in the file given after "--"
-- (one per line) and prints one JSON line with the run's figures (latencies in microseconds).
local paths = {}
local counter = 0

init = function(args)
    for line in io.lines(args[1]) do
        if line ~= "" then paths[#paths + 1] = line end
    end
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
