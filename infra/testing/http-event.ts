// Moved: the factory serves the local run and the replay tool too.
export * from '../local/http-event.ts';
