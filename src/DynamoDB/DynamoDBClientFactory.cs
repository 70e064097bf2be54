using Amazon;
using Amazon.DynamoDBv2;
using Amazon.Runtime;

namespace EventStore.Providers.DynamoDB;

/// <summary>Builds the SDK client from the options, falling back to the standard AWS configuration chain.</summary>
internal static class DynamoDBClientFactory
{
    public static IAmazonDynamoDB Create(DynamoDBEventStoreOptions options)
    {
        var config = new AmazonDynamoDBConfig
        {
            // Standard mode retries throttling and 5xx with exponential back-off and jitter, bounded by a retry quota.
            RetryMode = RequestRetryMode.Standard,
            MaxErrorRetry = options.MaxErrorRetry,
            Timeout = options.RequestTimeout,
        };
        if (options.ServiceUrl is not null)
        {
            config.ServiceURL = options.ServiceUrl;
            config.AuthenticationRegion = options.Region ?? "us-east-1";
        }
        else if (options.Region is not null)
        {
            config.RegionEndpoint = RegionEndpoint.GetBySystemName(options.Region);
        }

        return string.IsNullOrEmpty(options.AccessKeyId)
            ? new AmazonDynamoDBClient(config)
            : new AmazonDynamoDBClient(new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey), config);
    }
}
