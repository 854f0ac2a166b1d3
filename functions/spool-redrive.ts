import { createRedriveHandler } from '../lib/store/redrive-handler.ts';

export const handler = createRedriveHandler();
