//! [`Client`] methods for aliases: create, describe, list (all pages),
//! update, delete and resolve. One retried `Pool::call` per request; reads
//! carry the client's consistency.

use gamefleet_proto::v1 as pb;
use pb::game_lift_client::GameLiftClient;

use super::{Client, PAGE_LIMIT, all_pages, missing, next_page};
use crate::error::ClientError;
use crate::types::{
    Alias, CreateAliasInput, Page, ResolvedAlias, RoutingStrategyType, UpdateAliasInput,
};

impl Client {
    /// Creates an alias routing to a fleet (SIMPLE) or nowhere (TERMINAL).
    ///
    /// NB: CreateAlias takes no idempotency token; an attempt that timed out
    /// after the server applied it is retried and may create a second alias.
    pub async fn create_alias(&self, input: CreateAliasInput) -> Result<Alias, ClientError> {
        let req = pb::CreateAliasRequest::from(input);
        let resp = self
            .inner
            .pool
            .call(self.inner.policy, "CreateAlias", req, |ch, r| async move {
                GameLiftClient::new(ch).create_alias(r).await
            })
            .await?;
        resp.alias
            .map(Alias::from)
            .ok_or_else(|| missing("CreateAlias", "alias"))
    }

    /// Describes one alias by id or ARN.
    pub async fn describe_alias(&self, alias_id: &str) -> Result<Alias, ClientError> {
        let req = pb::DescribeAliasRequest {
            alias_id: alias_id.to_string(),
            consistency: self.read_consistency(),
        };
        let resp = self
            .inner
            .pool
            .call(
                self.inner.policy,
                "DescribeAlias",
                req,
                |ch, r| async move { GameLiftClient::new(ch).describe_alias(r).await },
            )
            .await?;
        resp.alias
            .map(Alias::from)
            .ok_or_else(|| missing("DescribeAlias", "alias"))
    }

    /// Every alias (following `next_token` pages), only those of
    /// `routing_strategy_type` and named exactly `name` when given.
    pub async fn list_aliases(
        &self,
        routing_strategy_type: Option<RoutingStrategyType>,
        name: Option<&str>,
    ) -> Result<Vec<Alias>, ClientError> {
        all_pages(None, move |next_token| async move {
            let req = pb::ListAliasesRequest {
                routing_strategy_type: routing_strategy_type.map(RoutingStrategyType::to_proto_i32),
                name: name.map(str::to_string),
                limit: Some(PAGE_LIMIT),
                next_token,
                consistency: self.read_consistency(),
            };
            let resp = self
                .inner
                .pool
                .call(self.inner.policy, "ListAliases", req, |ch, r| async move {
                    GameLiftClient::new(ch).list_aliases(r).await
                })
                .await?;
            Ok(Page {
                items: resp.aliases.into_iter().map(Into::into).collect(),
                next_token: next_page(resp.next_token),
            })
        })
        .await
    }

    /// Changes an alias; `None` fields are left unchanged. Returns the alias
    /// as updated.
    pub async fn update_alias(&self, input: UpdateAliasInput) -> Result<Alias, ClientError> {
        let req = pb::UpdateAliasRequest::from(input);
        let resp = self
            .inner
            .pool
            .call(self.inner.policy, "UpdateAlias", req, |ch, r| async move {
                GameLiftClient::new(ch).update_alias(r).await
            })
            .await?;
        resp.alias
            .map(Alias::from)
            .ok_or_else(|| missing("UpdateAlias", "alias"))
    }

    /// Deletes an alias.
    pub async fn delete_alias(&self, alias_id: &str) -> Result<(), ClientError> {
        let req = pb::DeleteAliasRequest {
            alias_id: alias_id.to_string(),
        };
        self.inner
            .pool
            .call(self.inner.policy, "DeleteAlias", req, |ch, r| async move {
                GameLiftClient::new(ch).delete_alias(r).await
            })
            .await?;
        Ok(())
    }

    /// The fleet an alias routes to; a TERMINAL alias fails with
    /// `TerminalRoutingStrategy` and its message.
    pub async fn resolve_alias(&self, alias_id: &str) -> Result<ResolvedAlias, ClientError> {
        let req = pb::ResolveAliasRequest {
            alias_id: alias_id.to_string(),
            consistency: self.read_consistency(),
        };
        let resp = self
            .inner
            .pool
            .call(self.inner.policy, "ResolveAlias", req, |ch, r| async move {
                GameLiftClient::new(ch).resolve_alias(r).await
            })
            .await?;
        Ok(ResolvedAlias::from(resp))
    }
}
