// The county's people pages: the organisation tree, the roster, one pupil, and roster imports.
// Each lives in its own module; app.js imports this list.

import { pages as orgPages } from "./county_org.js";
import { pages as rosterPages } from "./county_roster.js";
import { pages as pupilPages } from "./county_pupil.js";
import { pages as importPages } from "./county_import.js";

// The roster first: it is where a counselor lands after signing in.
export const pages = [...rosterPages, ...orgPages, ...pupilPages, ...importPages];
