-- wrk script for ci/bench-http.sh: 16 pipelined GET /plaintext requests per write (as TechEmpower's plaintext test).
-- wrk counts every response, so Requests/sec counts requests, not batches.
init = function(args)
  local r = {}
  for i = 1, 16 do
    r[i] = wrk.format(nil, "/plaintext")
  end
  req = table.concat(r)
end

request = function()
  return req
end
