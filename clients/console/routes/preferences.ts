// The officer's console preferences (the language of the page), kept with
// the agency's local state so they follow the officer to another browser.
import { Hono } from 'hono';
import { z } from 'zod';
import { appendAudit } from '../../agency/audit.js';
import { LANGUAGES, officerPreferences, setOfficerPreferences } from '../../agency/officers.js';
import type { Preferences } from '../api-types.js';
import type { ConsoleDeps, ConsoleEnv } from '../context.js';
import { jsonBody } from '../validation.js';

const prefsBody = z.object({ language: z.enum(LANGUAGES, { error: `expected one of ${LANGUAGES.join(', ')}` }) }).strict();

export function preferenceRoutes(deps: ConsoleDeps): Hono<ConsoleEnv> {
  const app = new Hono<ConsoleEnv>();

  app.get('/preferences', (c) => c.json<Preferences>(officerPreferences(deps.store, c.get('session').officer.id)));

  app.post('/preferences', async (c) => {
    const body = await jsonBody(c, prefsBody);
    const officer = c.get('session').officer.id;
    const saved = setOfficerPreferences(deps.store, officer, body);
    appendAudit(deps.store, { officer, action: 'officer.preferences', subject: officer, outcome: 'ok', detail: { language: saved.language } }, (deps.now ?? (() => new Date()))());
    return c.json<Preferences>(saved);
  });

  return app;
}
