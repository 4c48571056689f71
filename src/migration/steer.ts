/** The progress callback both migration paths hand the driver: records progress, switches to post-copy, raises the downtime limit. */
import type { MigrationProgress, MigrationSteer } from '../drivers/index.js';
import type { ActiveMigration } from './active.js';
import { nextDowntimeLimit, shouldSwitchToPostcopy, type MigrationPlan } from './policy.js';
import type { ProgressListener } from './result.js';

export interface Steering {
  onProgress: (p: MigrationProgress) => MigrationSteer | void;
  /** The downtime limit in force at the end (the policy may have raised it). */
  finalDowntimeLimitMs: () => number;
}

export function steering(m: ActiveMigration, plan: MigrationPlan, listener?: ProgressListener): Steering {
  let limit = plan.tuning.downtimeLimitMs;
  return {
    finalDowntimeLimitMs: () => limit,
    onProgress: (p) => {
      m.progress = p;
      m.phase = p.postcopy || m.phase === 'postcopy' ? 'postcopy' : 'transferring';
      listener?.(p);
      // The request stands until a sample shows post-copy: the driver can only switch once the stream
      // is active (not while it is still setting up), so a request made early is asked again next sample.
      if (p.postcopy) m.postcopyRequested = false;
      else if (m.postcopyRequested || shouldSwitchToPostcopy(plan.postcopy, p)) {
        m.phase = 'postcopy';
        return 'postcopy';
      }
      const raised = nextDowntimeLimit(plan, p, limit);
      if (raised !== undefined) {
        limit = raised;
        return { downtimeLimitMs: raised };
      }
    },
  };
}
