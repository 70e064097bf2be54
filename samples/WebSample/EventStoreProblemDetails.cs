using EventStore.Providers;
using Microsoft.AspNetCore.Diagnostics;

namespace WebSample;

/// <summary>Turns the store's typed exceptions into problem details with a fitting status code.</summary>
public sealed class EventStoreProblemDetails(IProblemDetailsService problems) : IExceptionHandler
{
    /// <inheritdoc />
    public async ValueTask<bool> TryHandleAsync(HttpContext httpContext, Exception exception, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(httpContext);
        ArgumentNullException.ThrowIfNull(exception);
        int? status = exception switch
        {
            WrongExpectedVersionException => StatusCodes.Status409Conflict,
            StreamDeletedException => StatusCodes.Status410Gone,
            AccountRuleException => StatusCodes.Status422UnprocessableEntity,
            InvalidStreamNameException or InvalidEventException or InvalidPositionException or DuplicateEventIdException
                or EventIdConflictException or EventTooLargeException or BadHttpRequestException => StatusCodes.Status400BadRequest,
            TransientEventStoreException => StatusCodes.Status503ServiceUnavailable,
            _ => null,
        };
        if (status is null) return false;
        httpContext.Response.StatusCode = status.Value;
        return await problems.TryWriteAsync(new ProblemDetailsContext
        {
            HttpContext = httpContext,
            Exception = exception,
            ProblemDetails = { Status = status, Title = exception.GetType().Name, Detail = exception.Message },
        });
    }
}
