// The county's daily work, one module per part (the shell imports this one `pages` array):
// activities, the points exchange, collection tasks and their review, pairings, statistics,
// and the audit log. What they share is in county_work_shared.js.

import { pages as activities } from "./county_activities.js";
import { pages as exchange } from "./county_exchange.js";
import { pages as tasks } from "./county_tasks.js";
import { pages as pairings } from "./county_pairings.js";
import { pages as stats } from "./county_stats.js";
import { pages as audit } from "./county_audit.js";

export const pages = [...activities, ...exchange, ...tasks, ...pairings, ...stats, ...audit];
