/** The suite's API fuzz, shard 2 of 4 (issue 23; test/helpers/fuzz-shard.ts says what it sends and checks). */
import { fuzzShard } from '../../test/helpers/fuzz-shard.js';

fuzzShard(2, 4);
