import { createExampleConsumer } from '../lib/consumer/example-consumer.ts';

export const handler = createExampleConsumer();
