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
    /// Validates the options when the host starts (<c>ValidateOnStart</c>): when <paramref name="validate"/> reports a
    /// problem, the start fails with <see cref="EventStoreConfigurationException"/> for <c>{keyPrefix}:{Key}</c>.
    /// </summary>
    public static OptionsBuilder<TOptions> ValidateEventStoreOptions<TOptions>(this OptionsBuilder<TOptions> builder, string keyPrefix, Func<TOptions, ConfigurationProblem?> validate) where TOptions : class
    {
        ArgumentNullException.ThrowIfNull(builder);
        ArgumentNullException.ThrowIfNull(keyPrefix);
        ArgumentNullException.ThrowIfNull(validate);
        builder.Services.AddSingleton<IValidateOptions<TOptions>>(new KeyNamingValidator<TOptions>(builder.Name, keyPrefix, validate));
        return builder.ValidateOnStart();
    }

    private static void CheckConvertible(Type optionsType, IConfiguration section, string path)
    {
        foreach (var property in optionsType.GetProperties())
        {
            if (!property.CanWrite) continue;
            var raw = section[property.Name];
            if (raw is null) continue;
            var type = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
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

    private sealed class KeyNamingValidator<TOptions>(string? name, string keyPrefix, Func<TOptions, ConfigurationProblem?> validate) : IValidateOptions<TOptions> where TOptions : class
    {
        // Throwing (rather than returning a failure) keeps the typed exception: the host's start-up validation
        // only aggregates OptionsValidationException and lets other exceptions through as they are.
        public ValidateOptionsResult Validate(string? optionsName, TOptions options)
        {
            if (name is not null && name != optionsName) return ValidateOptionsResult.Skip;
            var problem = validate(options);
            if (problem is not null)
                throw new EventStoreConfigurationException(keyPrefix.Length == 0 ? problem.Key : $"{keyPrefix}:{problem.Key}", problem.Problem);
            return ValidateOptionsResult.Success;
        }
    }
}
