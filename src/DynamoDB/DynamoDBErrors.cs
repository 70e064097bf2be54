using System.Net.Sockets;
using Amazon.DynamoDBv2.Model;
using Amazon.Runtime;

namespace EventStore.Providers.DynamoDB;

/// <summary>Maps SDK failures to the library's typed exceptions; messages never carry credentials or endpoints' secrets.</summary>
internal static class DynamoDBErrors
{
    public static async Task<T> Run<T>(Func<Task<T>> call, string operation, CancellationToken cancellationToken)
    {
        try
        {
            return await call().ConfigureAwait(false);
        }
        catch (Exception e) when (Map(e, operation, cancellationToken) is { } mapped)
        {
            throw mapped;
        }
    }

    public static Exception? Map(Exception e, string operation, CancellationToken cancellationToken)
    {
        switch (e)
        {
            case ConditionalCheckFailedException:
                return null;
            case OperationCanceledException when cancellationToken.IsCancellationRequested:
                return null;
            case ProvisionedThroughputExceededException or RequestLimitExceededException or InternalServerErrorException:
                return new TransientEventStoreException($"DynamoDB {operation} was throttled or failed on the server after retries; retry with the same event ids.", e);
            case ResourceNotFoundException:
                return new EventStoreException($"DynamoDB {operation} failed: a table it needs does not exist; with EventStore:DynamoDB:CreateTables=true the tables are created at host start or by the first event store operation.", e);
            case AmazonServiceException { ErrorCode: "UnrecognizedClientException" or "AccessDeniedException" or "InvalidSignatureException" or "MissingAuthenticationTokenException" or "ExpiredTokenException" }:
                return new AccessDeniedException($"DynamoDB refused the credentials for {operation}.", e);
            case AmazonServiceException { ErrorCode: "ThrottlingException" or "ServiceUnavailable" or "ServiceUnavailableException" or "LimitExceededException" }:
                return new TransientEventStoreException($"DynamoDB {operation} was throttled after retries; retry with the same event ids.", e);
            case AmazonServiceException { StatusCode: >= System.Net.HttpStatusCode.InternalServerError }:
                return new TransientEventStoreException($"DynamoDB {operation} failed on the server; retry with the same event ids.", e);
            case OperationCanceledException or TimeoutException:
                return new TransientEventStoreException($"DynamoDB {operation} timed out; its outcome is unknown; retry with the same event ids.", e);
            case HttpRequestException or SocketException or IOException:
                return new TransientEventStoreException($"DynamoDB {operation} could not reach the service; retry with the same event ids.", e);
            case AmazonClientException when e.InnerException is HttpRequestException or SocketException or IOException or TimeoutException or OperationCanceledException:
                return new TransientEventStoreException($"DynamoDB {operation} could not reach the service; retry with the same event ids.", e);
            default:
                return null;
        }
    }
}
