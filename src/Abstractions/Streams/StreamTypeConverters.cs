using System.ComponentModel;
using System.Globalization;

namespace EventStore.Providers;

/// <summary>
/// Base of the <see cref="TypeConverter"/>s of the string-shaped stream types, so they bind from configuration
/// values and MVC route or query values, and convert back to their text.
/// </summary>
internal abstract class TextTypeConverter<T> : TypeConverter where T : struct
{
    protected abstract T Parse(string text);

    public override bool CanConvertFrom(ITypeDescriptorContext? context, Type sourceType) =>
        sourceType == typeof(string) || base.CanConvertFrom(context, sourceType);

    public override bool CanConvertTo(ITypeDescriptorContext? context, Type? destinationType) =>
        destinationType == typeof(string) || base.CanConvertTo(context, destinationType);

    public override object? ConvertFrom(ITypeDescriptorContext? context, CultureInfo? culture, object value)
    {
        if (value is not string text) return base.ConvertFrom(context, culture, value);
        try
        {
            return Parse(text);
        }
        catch (Exception e) when (e is EventStoreException or ArgumentException)
        {
            // TypeConverter callers (the configuration binder, MVC model binding) expect a FormatException.
            throw new FormatException(e.Message, e);
        }
    }

    public override object? ConvertTo(ITypeDescriptorContext? context, CultureInfo? culture, object? value, Type destinationType) =>
        destinationType == typeof(string) && value is T typed ? typed.ToString() : base.ConvertTo(context, culture, value, destinationType);

    public override bool IsValid(ITypeDescriptorContext? context, object? value)
    {
        if (value is not string text) return base.IsValid(context, value);
        try
        {
            Parse(text);
            return true;
        }
        catch (Exception e) when (e is EventStoreException or ArgumentException or FormatException)
        {
            return false;
        }
    }
}

/// <summary>Converts <see cref="Position"/> from and to its text.</summary>
internal sealed class PositionTypeConverter : TextTypeConverter<Position>
{
    protected override Position Parse(string text) => Position.Parse(text);
}

/// <summary>Converts <see cref="StreamName"/> from and to its text.</summary>
internal sealed class StreamNameTypeConverter : TextTypeConverter<StreamName>
{
    protected override StreamName Parse(string text) => new(text);
}

/// <summary>Converts <see cref="ExpectedVersion"/> from and to its text.</summary>
internal sealed class ExpectedVersionTypeConverter : TextTypeConverter<ExpectedVersion>
{
    protected override ExpectedVersion Parse(string text) => ExpectedVersion.Parse(text);
}
