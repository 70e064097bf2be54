using System.ComponentModel;
using System.Globalization;
using Microsoft.Extensions.Configuration;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;

namespace EventStore.Providers;

/// <summary>Options shared by every provider, bound from the <c>EventStore</c> section and validated at start.</summary>
public sealed class EventStoreOptions
{
    /// <summary>Run every <see cref="IEventStoreInitializer"/> when the host starts. Default true.</summary>
    public bool InitializeOnStartup { get; set; } = true;

    /// <summary>How long the health check waits for the store. Default 5 s.</summary>
    public TimeSpan HealthCheckTimeout { get; set; } = TimeSpan.FromSeconds(5);

    internal static ConfigurationProblem? Validate(EventStoreOptions options) =>
        options.HealthCheckTimeout <= TimeSpan.Zero
            ? new ConfigurationProblem(nameof(HealthCheckTimeout), $"is {options.HealthCheckTimeout}; it must be a positive duration such as 00:00:05.")
            : null;
}

/// <summary>What is wrong with one configuration key, relative to its section.</summary>
/// <param name="Key">The key inside the section, e.g. <c>ConnectionString</c>.</param>
/// <param name="Problem">What is wrong, phrased to follow the key ("is missing").</param>
public sealed record ConfigurationProblem(string Key, string Problem);

/// <summary>Binds and validates options so that a bad value fails the start with an <see cref="EventStoreConfigurationException"/> naming the key.</summary>
public static class EventStoreOptionsBuilderExtensions
{
    /// <summary>
    /// Binds <paramref name="section"/> to the options. A value that cannot be converted to its property's type throws
    /// <see cref="EventStoreConfigurationException"/> naming the full key, instead of the binder's generic error.
    /// </summary>
    public static OptionsBuilder<TOptions> BindEventStoreSection<TOptions>(this OptionsBuilder<TOptions> builder, IConfiguration section) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(section);
        return builder.Configure(options => BindChecked(options, section));
    }

    internal static void BindChecked<TOptions>(TOptions options, IConfiguration section) where TOptions : class
    {
        CheckConvertible(typeof(TOptions), section, section is IConfigurationSection s ? s.Path : "");
        section.Bind(options);
    }

    /// <summary>
    /// Validates the options with <paramref name="validate"/> when they are built and when the host starts
    /// (<c>ValidateOnStart</c>); each problem becomes a failure naming <c>{keyPrefix}:{Key}</c>.
    /// </summary>
    public static OptionsBuilder<TOptions> ValidateEventStoreOptions<TOptions>(this OptionsBuilder<TOptions> builder, string keyPrefix, Func<TOptions, ConfigurationProblem?> validate) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        ArgumentNullException.ThrowIfNull(validate);
        builder.Services.AddSingleton<IValidateOptions<TOptions>>(new DelegateValidator<TOptions>(builder.Name, keyPrefix, validate));
        return builder.ValidateOnStart();
    }

    /// <summary>
    /// The options named <paramref name="name"/> (default: the unnamed ones), validated. Resolving them outside a
    /// host start turns the options framework's <see cref="OptionsValidationException"/> into the typed
    /// <see cref="EventStoreConfigurationException"/> naming the first key at fault.
    /// </summary>
    /// <exception cref="EventStoreConfigurationException">The options are invalid.</exception>
    public static TOptions GetValidatedOptions<TOptions>(this IServiceProvider services, string? name = null) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(services);
        try
        {
            return services.GetRequiredService<IOptionsMonitor<TOptions>>().Get(name ?? Options.DefaultName);
        }
        catch (OptionsValidationException e)
        {
            throw FromValidation(e);
        }
    }

    /// <summary>
    /// The typed form of an options validation failure whose messages start with the full key, as
    /// <see cref="EventStoreOptionsValidator{TOptions}"/> writes them: the first failure names <see cref="EventStoreConfigurationException.Key"/>, the
    /// others follow in the message.
    /// </summary>
    private static EventStoreConfigurationException FromValidation(OptionsValidationException e)
    {
        var first = e.Failures.FirstOrDefault() ?? e.Message;
        var space = first.IndexOf(' ', StringComparison.Ordinal);
        var (key, problem) = space > 0 ? (first[..space], first[(space + 1)..]) : (e.OptionsName, first);
        var others = e.Failures.Skip(1).ToList();
        if (others.Count > 0) problem += $" Also: {string.Join(" ", others)}";
        return new EventStoreConfigurationException(key, problem, e);
    }

    private static void CheckConvertible(Type optionsType, IConfiguration section, string path)
    {
        foreach (var property in optionsType.GetProperties())
        {
            if (!property.CanWrite) continue;
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            var raw = section[property.Name];
            if (raw is null)
            {
                // A nested options object (a subscription's Group) is checked key by key too.
                var nested = section.GetSection(property.Name);
                if (type.IsClass && type != typeof(string) && nested.GetChildren().Any())
                    CheckConvertible(type, nested, path.Length == 0 ? property.Name : $"{path}:{property.Name}");
                continue;
            }
            if (type == typeof(string)) continue;
            var converter = TypeDescriptor.GetConverter(type);
            if (!converter.CanConvertFrom(typeof(string))) continue;
            try
            {
                converter.ConvertFromString(null, CultureInfo.InvariantCulture, raw);
            }
            catch (Exception e) when (e is FormatException or NotSupportedException or ArgumentException or OverflowException || e.InnerException is FormatException or OverflowException)
            {
                var key = path.Length == 0 ? property.Name : $"{path}:{property.Name}";
                throw new EventStoreConfigurationException(key, $"is '{raw}', which is not a valid {Describe(type)}.", e);
            }
        }
    }

    private static string Describe(Type type) =>
        type == typeof(TimeSpan) ? "duration (for example 00:00:05)" :
        type == typeof(bool) ? "boolean (true or false)" :
        type == typeof(int) || type == typeof(long) ? "whole number" :
        type.IsEnum ? $"value ({string.Join(", ", Enum.GetNames(type))})" : type.Name;

    private sealed class DelegateValidator<TOptions>(string? name, string keyPrefix, Func<TOptions, ConfigurationProblem?> validate)
        : EventStoreOptionsValidator<TOptions>(keyPrefix, name) where TOptions : class
    {
        protected override IEnumerable<ConfigurationProblem> Check(TOptions options) => validate(options) is { } problem ? [problem] : [];
    }
}

/// <summary>
/// Validates one options class of the event store: every problem <see cref="Check"/> finds becomes a
/// <see cref="ValidateOptionsResult.Fail(IEnumerable{string})"/> message that starts with the full configuration key
/// (<c>EventStore:Postgres:ReadPageSize is 0; ...</c>). Registered with <c>ValidateOnStart</c>, so a host fails its
/// start with every problem listed; outside a host, resolving the options gives <see cref="EventStoreConfigurationException"/>.
/// </summary>
/// <typeparam name="TOptions">The options class.</typeparam>
/// <param name="sectionPath">The configuration path the options bind from, e.g. <c>EventStore:Postgres</c>.</param>
/// <param name="optionsName">The named options to validate; null validates every name.</param>
public abstract class EventStoreOptionsValidator<TOptions>(string sectionPath, string? optionsName = null) : IValidateOptions<TOptions> where TOptions : class
{
    /// <summary>The configuration path the options bind from; it prefixes every key named in a failure.</summary>
    public string SectionPath { get; } = sectionPath ?? throw new ArgumentNullException(nameof(sectionPath));

    /// <summary>The problems of <paramref name="options"/>, keys relative to <see cref="SectionPath"/>; none when valid.</summary>
    protected abstract IEnumerable<ConfigurationProblem> Check(TOptions options);

    /// <inheritdoc />
    public ValidateOptionsResult Validate(string? name, TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (optionsName is not null && optionsName != name) return ValidateOptionsResult.Skip;
        var failures = Check(options).Select(p => $"{FullKey(p.Key)} {p.Problem}").ToList();
        return failures.Count == 0 ? ValidateOptionsResult.Success : ValidateOptionsResult.Fail(failures);
    }

    /// <summary>Throws for the first problem of <paramref name="options"/>, for stores built without dependency injection.</summary>
    /// <exception cref="EventStoreConfigurationException">An option is invalid; the exception names its full key.</exception>
    public void ThrowIfInvalid(TOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        if (Check(options).FirstOrDefault() is { } problem)
            throw new EventStoreConfigurationException(FullKey(problem.Key), problem.Problem);
    }

    private string FullKey(string key) => SectionPath.Length == 0 ? key : $"{SectionPath}:{key}";
}
