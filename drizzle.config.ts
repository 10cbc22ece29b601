// drizzle-kit: `npx drizzle-kit generate` writes SQL migrations for the
// coordinator's schema into drizzle/, which the coordinator applies at start-up.
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: './src/store/schema.ts',
  out: './drizzle',
});
