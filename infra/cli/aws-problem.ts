/**
 * What went wrong calling AWS (or an SQS- or S3-compatible server), in one line that says what to do,
 * instead of the SDK's stack trace. `what` names the thing called, as the user set it
 * (`QUEUE_URL https://sqs.eu-west-1.amazonaws.com/…`); `action` the permission it needs
 * (`sqs:GetQueueAttributes`); `endpoint` where it was called (for a connection that failed).
 */
export function awsProblem(error: unknown, what: string, action: string, endpoint?: string): string {
  if (!(error instanceof Error)) return `${what}: ${String(error)}`;
  const code = 'code' in error && typeof error.code === 'string' ? error.code : undefined;
  const status = httpStatusOf(error);
  const where = endpoint ? new URL(endpoint).host : 'the endpoint';
  if (error.message === 'Region is missing' || error.message.startsWith('Region not accepted')) {
    return `${what}: the AWS SDK has no region: set AWS_REGION (the region the resource is in, such as eu-west-1)`;
  }
  if (error.name === 'CredentialsProviderError') {
    return `${what}: no AWS credentials were found: set AWS_PROFILE, or AWS_ACCESS_KEY_ID and AWS_SECRET_ACCESS_KEY`;
  }
  if (code === 'ECONNREFUSED') return `${what}: nothing answers at ${where} (ECONNREFUSED): start it, or fix the address`;
  if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') {
    return `${what}: ${where} could not be resolved (${code}): check the URL, AWS_REGION and the network`;
  }
  if (code === 'ECONNRESET' || code === 'ETIMEDOUT' || error.name === 'TimeoutError' || error.name === 'RequestTimeout') {
    return `${what}: no answer from ${where} (${code ?? error.name}): check the address and the network`;
  }
  if (/QueueDoesNotExist|NonExistentQueue/.test(error.name)) {
    return `${what}: there is no such queue (${error.name}): check the account id and queue name in the URL, and AWS_REGION`;
  }
  if (error.name === 'NoSuchBucket' || (error.name === 'NotFound' && status === 404)) {
    return `${what}: there is no such bucket (404): check its name (the stack output PayloadBucketName) and AWS_REGION`;
  }
  if (/InvalidClientTokenId|UnrecognizedClient|SignatureDoesNotMatch|InvalidAccessKeyId|ExpiredToken/.test(error.name)) {
    return `${what}: the AWS credentials are not accepted (${error.name}): check AWS_PROFILE or the keys, and AWS_REGION`;
  }
  if (/AccessDenied|Forbidden/.test(error.name) || status === 403) {
    return `${what}: access denied (${error.name}): the credentials may not call ${action} on it`;
  }
  return `${what}: ${error.name}${status ? ` (HTTP ${status})` : ''}: ${error.message.split('\n')[0]}`;
}

function httpStatusOf(error: Error): number | undefined {
  if (!('$metadata' in error) || typeof error.$metadata !== 'object' || error.$metadata === null) return undefined;
  const status = 'httpStatusCode' in error.$metadata ? error.$metadata.httpStatusCode : undefined;
  return typeof status === 'number' ? status : undefined;
}
