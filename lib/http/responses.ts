import type { APIGatewayProxyStructuredResultV2 } from 'aws-lambda';

/** The single response builder: a JSON body with the given status. */
export function json(statusCode: number, body: unknown): APIGatewayProxyStructuredResultV2 {
  return {
    statusCode,
    headers: { 'content-type': 'application/json; charset=utf-8' },
    body: JSON.stringify(body),
  };
}
