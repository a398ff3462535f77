// drizzle-kit settings for the energy database (`npm run db:generate:energy`).
import { defineConfig } from 'drizzle-kit';

export default defineConfig({
  dialect: 'sqlite',
  schema: ['./fleet/energy/db/schema.ts', './fleet/automation/schema.ts'],
  out: './fleet/energy/migrations',
});
