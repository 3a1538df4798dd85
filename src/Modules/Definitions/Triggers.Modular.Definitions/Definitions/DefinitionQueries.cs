using Dapper;
using FluentValidation;
using Mediator;
using Triggers.Modular.BuildingBlocks.Aggregates;
using Triggers.Modular.BuildingBlocks.EventStore;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.Definitions.Common;
using Triggers.Modular.Definitions.Contracts;
using Triggers.Modular.Definitions.ReadModel;

namespace Triggers.Modular.Definitions.Definitions;

internal sealed record GetDefinition(string Id, int? Version) : IQuery<DefinitionDto>, ITenantScoped;

internal sealed record ListDefinitionVersions(string Id) : IQuery<IReadOnlyList<DefinitionVersionDto>>, ITenantScoped;

/// <summary>Latest versions of the caller's definitions, by id (creation order); <see cref="Name"/> matches anywhere in the name,
/// case-insensitively.</summary>
internal sealed record ListDefinitions(bool? Enabled, string? Name, int Limit, int Offset) : IQuery<DefinitionPage>, ITenantScoped;

internal sealed record DefinitionPage(IReadOnlyList<DefinitionSummaryDto> Items, int Limit, int Offset, long Total);

internal sealed class ListDefinitionsValidator : AbstractValidator<ListDefinitions>
{
    public ListDefinitionsValidator()
    {
        RuleFor(q => q.Limit).InclusiveBetween(1, 200);
        RuleFor(q => q.Offset).GreaterThanOrEqualTo(0);
        RuleFor(q => q.Name).MaximumLength(200);
    }
}

internal sealed class DefinitionQueryHandler(CommandHandler handler, IEventStore store, EventSerializer serializer, IStoreDatabase database,
    RequestContext context)
    : IQueryHandler<GetDefinition, DefinitionDto>, IQueryHandler<ListDefinitionVersions, IReadOnlyList<DefinitionVersionDto>>,
        IQueryHandler<ListDefinitions, DefinitionPage>
{
    public async ValueTask<DefinitionDto> Handle(GetDefinition query, CancellationToken cancellationToken) =>
        (await handler.LoadOwnedAsync(context.RequireTenant(), query.Id, cancellationToken)).ToDto(query.Version);

    public async ValueTask<IReadOnlyList<DefinitionVersionDto>> Handle(ListDefinitionVersions query, CancellationToken cancellationToken)
    {
        await handler.LoadOwnedAsync(context.RequireTenant(), query.Id, cancellationToken);
        var versions = new List<DefinitionVersionDto>();
        var from = 0L;
        while (true)
        {
            var page = await store.ReadStreamAsync(DefinitionStreams.For(query.Id), ReadDirection.Forward, from, 500, cancellationToken);
            foreach (var e in page)
            {
                switch (serializer.Deserialize(e))
                {
                    case DefinitionCreated c: versions.Add(new DefinitionVersionDto(c.Version, c.Name, c.CreatedAt, e.Metadata.Actor)); break;
                    case DefinitionUpdated u: versions.Add(new DefinitionVersionDto(u.Version, u.Name, u.UpdatedAt, e.Metadata.Actor)); break;
                }

                from = e.Revision + 1;
            }

            if (page.Count < 500) return versions;
        }
    }

    public async ValueTask<DefinitionPage> Handle(ListDefinitions query, CancellationToken cancellationToken)
    {
        var scope = context.RequireTenant();
        var d = database.Dialect;
        var where = "tenant_id = @tenant AND environment = @environment"
            + (query.Enabled is null ? "" : " AND enabled = @enabled")
            + (string.IsNullOrEmpty(query.Name) ? "" : " AND lower(name) LIKE @name ESCAPE '\\'");
        var args = new
        {
            tenant = scope.TenantId, environment = scope.Environment, enabled = query.Enabled ?? false,
            name = "%" + (query.Name ?? "").ToLowerInvariant().Replace("\\", "\\\\", StringComparison.Ordinal)
                .Replace("%", "\\%", StringComparison.Ordinal).Replace("_", "\\_", StringComparison.Ordinal) + "%",
            limit = query.Limit, offset = query.Offset,
        };
        await using var connection = await database.OpenConnectionAsync(cancellationToken);
        var total = await connection.ExecuteScalarAsync<long>(new CommandDefinition(
            $"SELECT COUNT(*) FROM {DefinitionsProjection.Table(d)} WHERE {where}", args, cancellationToken: cancellationToken));
        var rows = await connection.QueryAsync(new CommandDefinition(
            $"SELECT definition_id, name, description, version, enabled, created_at, updated_at FROM {DefinitionsProjection.Table(d)} " +
            $"WHERE {where} ORDER BY definition_id LIMIT @limit OFFSET @offset", args, cancellationToken: cancellationToken));
        var items = rows.Select(r =>
        {
            bool enabled = SqlBool.Read((object)r.enabled);
            return new DefinitionSummaryDto((string)r.definition_id, (int)Convert.ToInt32(r.version, System.Globalization.CultureInfo.InvariantCulture),
                DefinitionViews.Status(enabled), enabled, (string)r.name, (string?)r.description,
                SqlTime.Read(r.created_at), SqlTime.Read(r.updated_at));
        }).ToList();
        return new DefinitionPage(items, query.Limit, query.Offset, total);
    }
}
