using Microsoft.Extensions.Logging.Abstractions;
using Triggers.Modular.BuildingBlocks.Mediation;
using Triggers.Modular.BuildingBlocks.Storage;
using Triggers.Modular.BuildingBlocks.Tests.Support;

namespace Triggers.Modular.BuildingBlocks.Tests.Platform;

public abstract class IdempotencyStoreContract : IAsyncLifetime
{
    private static readonly TenantScope Acme = new("acme", "dev");
    private readonly ManualClock _clock = new(new DateTimeOffset(2026, 11, 23, 10, 0, 0, TimeSpan.Zero));
    private StoreHarness _harness = null!;
    private IdempotencyStore _store = null!;

    protected abstract StoreKind Kind { get; }

    public async Task InitializeAsync()
    {
        _harness = await StoreHarness.CreateAsync(Kind);
        await new MigrationRunner(_harness.Database, [IdempotencyStore.Migrations], NullLogger<MigrationRunner>.Instance).MigrateAsync();
        _store = new IdempotencyStore(_harness.Database, _clock);
    }

    public async Task DisposeAsync() => await _harness.DisposeAsync();

    [Fact]
    public async Task Given_a_new_key_When_claimed_Then_it_is_ours_and_a_second_claim_sees_it_in_progress()
    {
        Assert.Equal(IdempotencyClaim.Claimed, (await _store.ClaimAsync(Acme, "k1", "h1", default)).Claim);
        Assert.Equal(IdempotencyClaim.InProgress, (await _store.ClaimAsync(Acme, "k1", "h1", default)).Claim);
    }

    [Fact]
    public async Task Given_a_completed_key_When_claimed_with_the_same_hash_Then_the_stored_response_comes_back_and_with_another_hash_Then_different_request()
    {
        var claim = await _store.ClaimAsync(Acme, "k1", "h1", default);
        Assert.True(await _store.CompleteAsync(Acme, "k1", claim.ClaimId!, """{"id":"env"}""", default));

        var replay = await _store.ClaimAsync(Acme, "k1", "h1", default);
        Assert.Equal(IdempotencyClaim.Completed, replay.Claim);
        Assert.Equal("""{"id":"env"}""", replay.ResponseJson);
        Assert.Equal(IdempotencyClaim.DifferentRequest, (await _store.ClaimAsync(Acme, "k1", "h2", default)).Claim);
        Assert.Equal(1, await _store.CountAsync(Acme, "k1"));
    }

    [Fact]
    public async Task Given_the_same_key_in_another_tenant_or_environment_When_claimed_Then_it_is_independent()
    {
        await _store.ClaimAsync(Acme, "k1", "h1", default);
        Assert.Equal(IdempotencyClaim.Claimed, (await _store.ClaimAsync(new TenantScope("globex", "dev"), "k1", "h1", default)).Claim);
        Assert.Equal(IdempotencyClaim.Claimed, (await _store.ClaimAsync(new TenantScope("acme", "prod"), "k1", "h1", default)).Claim);
    }

    [Fact]
    public async Task Given_a_released_claim_When_claimed_again_Then_it_is_ours()
    {
        var claim = await _store.ClaimAsync(Acme, "k1", "h1", default);
        await _store.ReleaseAsync(Acme, "k1", claim.ClaimId!, default);
        Assert.Equal(0, await _store.CountAsync(Acme, "k1"));
        Assert.Equal(IdempotencyClaim.Claimed, (await _store.ClaimAsync(Acme, "k1", "h2", default)).Claim);
    }

    [Fact]
    public async Task Given_a_pending_claim_whose_lease_lapsed_When_the_same_request_retries_Then_it_takes_over_but_another_request_does_not()
    {
        await _store.ClaimAsync(Acme, "k1", "h1", default);
        _clock.Advance(IdempotencyStore.Lease + TimeSpan.FromSeconds(1));

        Assert.Equal(IdempotencyClaim.DifferentRequest, (await _store.ClaimAsync(Acme, "k1", "h2", default)).Claim);
        Assert.Equal(IdempotencyClaim.Claimed, (await _store.ClaimAsync(Acme, "k1", "h1", default)).Claim);
    }

    [Fact]
    public async Task Given_a_holder_whose_lease_lapsed_and_a_successor_When_the_stale_holder_releases_or_completes_Then_the_successors_claim_is_untouched()
    {
        var stale = await _store.ClaimAsync(Acme, "k1", "h1", default);
        _clock.Advance(IdempotencyStore.Lease + TimeSpan.FromSeconds(1));
        var successor = await _store.ClaimAsync(Acme, "k1", "h1", default);
        Assert.Equal(IdempotencyClaim.Claimed, successor.Claim);
        Assert.NotEqual(stale.ClaimId, successor.ClaimId);

        await _store.ReleaseAsync(Acme, "k1", stale.ClaimId!, default);
        Assert.False(await _store.CompleteAsync(Acme, "k1", stale.ClaimId!, """{"from":"stale"}""", default));

        Assert.Equal(IdempotencyClaim.InProgress, (await _store.ClaimAsync(Acme, "k1", "h1", default)).Claim);
        Assert.True(await _store.CompleteAsync(Acme, "k1", successor.ClaimId!, """{"from":"successor"}""", default));
        Assert.Equal("""{"from":"successor"}""", (await _store.ClaimAsync(Acme, "k1", "h1", default)).ResponseJson);
    }

    [Fact]
    public async Task Given_a_completed_record_past_24_hours_When_claimed_or_swept_Then_it_is_gone()
    {
        await _store.CompleteAsync(Acme, "k1", (await _store.ClaimAsync(Acme, "k1", "h1", default)).ClaimId!, "{}", default);
        await _store.CompleteAsync(Acme, "k2", (await _store.ClaimAsync(Acme, "k2", "h1", default)).ClaimId!, "{}", default);
        _clock.Advance(IdempotencyStore.Retention + TimeSpan.FromMinutes(1));

        Assert.Equal(IdempotencyClaim.Claimed, (await _store.ClaimAsync(Acme, "k1", "h2", default)).Claim);
        Assert.Equal(1, await _store.SweepAsync(default));
        Assert.Equal(0, await _store.CountAsync(Acme, "k2"));
    }

    [Fact]
    public async Task Given_many_concurrent_claims_of_one_key_When_they_race_Then_exactly_one_wins()
    {
        var claims = await Task.WhenAll(Enumerable.Range(0, 16).Select(_ => Task.Run(() => _store.ClaimAsync(Acme, "race", "h1", default))));
        Assert.Equal(1, claims.Count(c => c.Claim == IdempotencyClaim.Claimed));
        Assert.Equal(15, claims.Count(c => c.Claim == IdempotencyClaim.InProgress));
    }
}

public sealed class SqliteIdempotencyStoreTests : IdempotencyStoreContract
{
    protected override StoreKind Kind => StoreKind.Sqlite;
}

public sealed class PostgresIdempotencyStoreTests : IdempotencyStoreContract
{
    protected override StoreKind Kind => StoreKind.Postgres;
}

internal sealed class ManualClock(DateTimeOffset now) : TimeProvider
{
    private DateTimeOffset _now = now;

    public override DateTimeOffset GetUtcNow() => _now;

    public void Advance(TimeSpan by) => _now += by;
}
