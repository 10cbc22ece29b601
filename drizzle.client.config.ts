// drizzle-kit config of the agency client's local store (clients/store).
// `npx drizzle-kit generate --config drizzle.client.config.ts` writes the
// migrations that clients/store/db.ts applies when it opens DIR/agency.db.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './clients/store/schema.ts',
  out: './drizzle-client',
});
