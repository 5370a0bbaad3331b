#pragma once
// One anilibria.titles record applied to Redis atomically, unless Redis already holds a newer
// version of the title: the version guard that lets `anipipe-ops cache rebuild` replay the topic
// while cache workers keep applying newer records (and lets a zombie worker's late batch lose).
// A title's versions live in one partition, so its offset orders them; the guard compares only
// within a partition (after a partition-count change the new partition's records win).
// Per title, anilibria:cache:meta:{id} keeps partition, offset and what the index entries were
// built from (alias, status, genres), so stale entries are removed without reading the document.
// Key names are built inside (standalone Redis; not for Redis Cluster).
//
// ARGV: id, partition, offset, v2 JSON ('' = tombstone), v1 JSON, alias, updated score, status, genres...
// Returns 1 if applied, 0 if a newer version was already there.
#include <string_view>

namespace anipipe::cache {

inline constexpr std::string_view kApplyTitleScript = R"lua(
local id, part, off = ARGV[1], ARGV[2], tonumber(ARGV[3])
local meta = 'anilibria:cache:meta:' .. id
local m = redis.call('HMGET', meta, 'partition', 'offset', 'alias', 'status', 'genres')
if m[1] == part and m[2] and tonumber(m[2]) > off then return 0 end
local tomb = ARGV[4] == ''
local keep = {}
if not tomb then for i = 9, #ARGV do keep[ARGV[i]] = true end end
if m[3] and (tomb or m[3] ~= ARGV[6]) and redis.call('GET', 'anilibria:v2:alias:' .. m[3]) == id then
  redis.call('DEL', 'anilibria:v2:alias:' .. m[3])
end
if m[4] and (tomb or m[4] ~= ARGV[8]) then redis.call('SREM', 'anilibria:v2:status:' .. m[4], id) end
if m[5] then
  for g in string.gmatch(m[5], '[^\n]+') do
    if not keep[g] then redis.call('SREM', 'anilibria:v2:genre:' .. g, id) end
  end
end
if tomb then
  redis.call('DEL', 'anilibria:v2:title:' .. id, 'anilibria:v1:title:' .. id, meta)
  redis.call('ZREM', 'anilibria:v2:titles:updated', id)
  redis.call('HSET', meta, 'partition', part, 'offset', ARGV[3])
  redis.call('EXPIRE', meta, 604800)
  return 1
end
redis.call('SET', 'anilibria:v2:title:' .. id, ARGV[4])
redis.call('SET', 'anilibria:v1:title:' .. id, ARGV[5])
redis.call('SET', 'anilibria:v2:alias:' .. ARGV[6], id)
redis.call('ZADD', 'anilibria:v2:titles:updated', ARGV[7], id)
redis.call('SADD', 'anilibria:v2:status:' .. ARGV[8], id)
local genres = {}
for i = 9, #ARGV do
  redis.call('SADD', 'anilibria:v2:genre:' .. ARGV[i], id)
  genres[#genres + 1] = ARGV[i]
end
redis.call('HSET', meta, 'partition', part, 'offset', ARGV[3], 'alias', ARGV[6], 'status', ARGV[8], 'genres', table.concat(genres, '\n'))
redis.call('PERSIST', meta)
return 1
)lua";

}  // namespace anipipe::cache
