using System.Net;
using Amazon;
using Amazon.DynamoDBv2;
using Amazon.Runtime;

namespace EventStore.Providers.DynamoDB;

/// <summary>Builds the SDK client from the options, falling back to the standard AWS configuration chain.</summary>
/// <remarks>
/// A local endpoint (<see cref="DynamoDBEventStoreOptions.ServiceUrl"/> on a loopback host, such as dynalite or
/// DynamoDB Local) without keys gets dummy credentials: emulators accept any, and a first try against one should not
/// need an AWS account. Anywhere else, a missing region or credentials is reported as an
/// <see cref="EventStoreConfigurationException"/> naming the keys to set, not as the SDK's bare client error.
/// </remarks>
internal static class DynamoDBClientFactory
{
    private const string Section = DynamoDBEventStoreOptions.SectionName;

    /// <summary>The access key used for a local endpoint configured without keys.</summary>
    internal const string LocalAccessKey = "local";

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

        AWSCredentials? credentials = null;
        if (!string.IsNullOrEmpty(options.AccessKeyId))
            credentials = new BasicAWSCredentials(options.AccessKeyId, options.SecretAccessKey);
        else if (IsLocalEndpoint(options.ServiceUrl))
            credentials = new BasicAWSCredentials(LocalAccessKey, LocalAccessKey);

        if (options.ServiceUrl is null && options.Region is null && FallbackRegion() is null)
            throw new EventStoreConfigurationException($"{Section}:Region",
                $"is not set and no AWS region was found in the environment (AWS_REGION) or profile; set {Section}:Region (for example eu-west-1), or {Section}:ServiceUrl for a local endpoint such as dynalite.");

        try
        {
            return credentials is null ? new AmazonDynamoDBClient(config) : new AmazonDynamoDBClient(credentials, config);
        }
        catch (AmazonClientException e)
        {
            throw new EventStoreConfigurationException($"{Section}:AccessKeyId",
                $"is not set and the AWS credentials chain found none ({e.Message}); set {Section}:AccessKeyId and {Section}:SecretAccessKey, configure AWS credentials (environment, profile or role), or point {Section}:ServiceUrl at a local endpoint.", e);
        }
    }

    /// <summary>True for a service URL on a loopback host (localhost, 127.0.0.0/8, ::1).</summary>
    internal static bool IsLocalEndpoint(string? serviceUrl) =>
        serviceUrl is not null && Uri.TryCreate(serviceUrl, UriKind.Absolute, out var uri)
        && (uri.IsLoopback || (IPAddress.TryParse(uri.DnsSafeHost, out var ip) && IPAddress.IsLoopback(ip)));

    private static RegionEndpoint? FallbackRegion()
    {
        try
        {
            return FallbackRegionFactory.GetRegionEndpoint();
        }
        catch (AmazonClientException)
        {
            return null;
        }
    }
}
